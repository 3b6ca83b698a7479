"""``GET /v1/worklist``: customers ranked by expected cash at stake."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query
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
def get_worklist(
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
    page = service.worklist_page(
        engine,
        user=user,
        filters=filters,
        limit=min(limit, settings.max_page_size),
        cursor=cursor,
        base_currency=settings.base_currency,
    )
    if format == "csv":
        return Response(
            service.worklist_csv(page),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="worklist_{page.as_of}.csv"'},
        )
    # Built from the schema by the service already: skip FastAPI's second validation pass.
    return Response(page.model_dump_json(), media_type="application/json")
