"""The risk service (FastAPI): worklists, customers, scoring with explanations, credit limits, models.

Contract for routers added by other domains (collections, dunning, cash application, monitoring):

* **A package per domain** ``serving/<domain>/`` with ``router.py`` (thin: parse, call one service
  function, return a schema), ``schemas.py`` (pydantic, ``Decimal`` money) and ``service.py`` (never
  imports FastAPI, raises ``arrisk.errors.*``). ``router.py`` defines a module-level
  ``router = APIRouter(prefix="/v1/...", tags=[...], responses=responses(401, 403, ...))``.
* **Registration**: add the module path to ``serving.app.ROUTERS`` (a list of dotted module names;
  ``create_app`` includes each module's ``router`` in that order).
* **Dependencies** (``serving.deps``): ``EngineDep``, ``SettingsDep`` (``ServingSettings``),
  ``ModelsDep`` (``serving.model_store.ModelStore``; ``.get(name)`` raises 503 when missing),
  ``PoliciesDep``, ``CurrentUser`` (a ``serving.auth.Principal``: user_id, name, role,
  collector_id) and ``require_roles(Role.x, ...)``, used as
  ``user: Annotated[Principal, require_roles(Role.admin)]``. Everything comes from ``app.state``,
  set in the lifespan, so tests can use ``app.dependency_overrides``.
* **Collectors** see only customers whose ``collector_id`` is theirs: call
  ``serving.customers.access.visible_customer(engine, user, customer_id)``, which raises
  ``NotFoundError`` (404, not 403) for someone else's customer.
* **Errors**: raise ``arrisk.errors.ArriskError`` subclasses; one handler maps ``http_status`` to
  ``{"error": {"type", "message", "request_id"}}`` (``serving.http_errors.ErrorBody``); request
  validation errors are 422 with ``fields`` naming each bad field; anything else is logged and
  answered 500 with the request id only. Document error codes with ``responses(...)``.
* **Writes** go through ``arrisk.store.audit.record`` (actor = ``user.user_id``) in the same
  transaction as the change.

Entry points: ``serving.app.create_app(settings=None, *, engine=None)``,
``serving.worklist.refresh.refresh_worklist(engine, as_of, *, models)``,
``serving.demo.prepare_demo_service(engine, as_of) -> {role: token}``, CLI ``arrisk serve | score | users``.
"""
