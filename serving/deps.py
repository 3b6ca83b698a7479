"""Reusable dependencies: settings, engine, models, policies, the caller and role checks.

Everything comes from ``request.app.state`` (set in the lifespan), so a test can swap any of it with
``app.dependency_overrides``. Use the ``Annotated`` aliases in routes::

    @router.get("/things")
    def things(engine: EngineDep, user: Annotated[Principal, require_roles(Role.admin)]) -> ...
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from arrisk.errors import PermissionDenied
from serving.auth import AuthenticationError, Principal, Role, TokenCache, authenticate
from serving.model_store import ModelStore
from serving.settings import ServingSettings

_bearer = HTTPBearer(auto_error=False, description="API key (ark_...) or JWT")


# The dependencies are ``async def`` on purpose: FastAPI runs a plain ``def`` dependency in the thread
# pool, one hand-off per dependency per request, which on a hot read cost more than the read itself.
# None of them blocks (the token check goes to the thread pool only when the cache misses).


async def get_settings(request: Request) -> ServingSettings:
    return request.app.state.settings


async def get_engine(request: Request) -> Engine:
    return request.app.state.engine


async def get_models(request: Request) -> ModelStore:
    return request.app.state.models


async def get_policies(request: Request) -> Any:
    return request.app.state.policies


SettingsDep = Annotated[ServingSettings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
ModelsDep = Annotated[ModelStore, Depends(get_models)]
PoliciesDep = Annotated[Any, Depends(get_policies)]


async def get_current_user(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller behind the bearer token; 401 without a valid one (checked tokens are cached briefly)."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise AuthenticationError("this endpoint needs an Authorization: Bearer <token> header")
    cache: TokenCache = request.app.state.token_cache
    principal = cache.get(credentials.credentials)
    if principal is None:
        principal = await run_in_threadpool(
            authenticate,
            engine,
            credentials.credentials,
            jwt_secret=settings.jwt_secret,
            algorithm=settings.jwt_algorithm,
        )
        cache.put(credentials.credentials, principal)
    return principal


CurrentUser = Annotated[Principal, Depends(get_current_user)]


def require_roles(*roles: Role) -> Any:
    """A dependency that lets only ``roles`` through (403 otherwise) and yields the Principal."""
    allowed = {Role(r) for r in roles}

    async def check(user: CurrentUser) -> Principal:
        if user.role not in allowed:
            raise PermissionDenied(
                f"role {user.role.value!r} may not do this; allowed: {sorted(r.value for r in allowed)}"
            )
        return user

    return Depends(check)
