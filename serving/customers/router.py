"""``GET /v1/customers/{customer_id}``: one customer's exposure, scores and collection records."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from serving.auth import Principal, Role
from serving.customers import service
from serving.customers.schemas import CustomerView
from serving.deps import EngineDep, SettingsDep, require_roles
from serving.http_errors import responses

router = APIRouter(prefix="/v1", tags=["customers"], responses=responses(401, 403, 404, 422))
Reader = Annotated[
    Principal, require_roles(Role.collector, Role.credit_analyst, Role.data_scientist, Role.admin)
]


@router.get("/customers/{customer_id}", response_model=CustomerView)
def get_customer(
    customer_id: Annotated[str, Path(max_length=64)], engine: EngineDep, settings: SettingsDep, user: Reader
) -> CustomerView:
    """A collector gets 404 for a customer outside their portfolio."""
    return service.customer_view(
        engine, user=user, customer_id=customer_id, base_currency=settings.base_currency
    )
