"""``GET /v1/worklist``: customers ranked by expected cash at stake."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from serving.auth import Principal, Role
from serving.deps import EngineDep, SettingsDep, require_roles
from serving.http_errors import responses
from serving.worklist import service
from serving.worklist.policy import Tier
from serving.worklist.schemas import WorklistPage

router = APIRouter(prefix="/v1", tags=["worklist"], responses=responses(401, 403, 409, 422, 503))
Reader = Annotated[Principal, require_roles(Role.collector, Role.credit_analyst, Role.admin)]


@router.get(
    "/worklist",
    response_model=WorklistPage,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def get_worklist(
    engine: EngineDep,
    settings: SettingsDep,
    user: Reader,
    collector: Annotated[str | None, Query(max_length=64)] = None,
    tier: Tier | None = None,
    segment: Annotated[str | None, Query(max_length=40)] = None,
    currency: Annotated[str | None, Query(pattern="^[A-Z]{3}$")] = None,
    min_amount: Annotated[Decimal | None, Query(ge=0, max_digits=18, decimal_places=2)] = None,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    format: Literal["json", "csv"] = "json",
) -> Response:
    """Collectors see their own portfolio only. Keyset pagination: pass ``next_cursor`` back as ``cursor``."""
    filters = service.WorklistFilters(
        collector=collector, tier=tier, segment=segment, currency=currency, min_amount=min_amount
    )

    def page(build: Callable[..., Any]) -> Callable[[], Any]:
        return partial(
            build,
            engine,
            user=user,
            filters=filters,
            limit=min(limit, settings.max_page_size),
            cursor=cursor,
            base_currency=settings.base_currency,
        )

    if format == "csv":
        rows = await run_in_threadpool(page(service.worklist_page))
        return Response(
            service.worklist_csv(rows),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="worklist_{rows.as_of}.csv"'},
        )
    # The hot path: JSON encoded straight from the stored rows (equal to WorklistPage's, tested),
    # so FastAPI's response-model pass is skipped; the schema stays the route's in OpenAPI. On SQLite
    # the read is a local indexed lookup that holds the GIL anyway: done inline, it saves the thread
    # pool's hand-off; a server database's network wait goes to the thread pool.
    read = page(service.worklist_page_json)
    body = read() if engine.dialect.name == "sqlite" else await run_in_threadpool(read)
    return Response(body, media_type="application/json")
