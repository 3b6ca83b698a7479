"""Promises, disputes, payment plans, activities and write-offs.

Collectors work only their own customers (anyone else's is a 404); credit analysts and admins work
every customer; data scientists may read. Write-offs are approved by a second person.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from arrisk.collections.schemas import (
    ActivityOut,
    DisputeOut,
    DisputeStatus,
    PaymentPlanOut,
    PromiseOut,
    WriteOffOut,
    WriteOffStatus,
)
from serving.auth import Principal, Role
from serving.collections import service
from serving.collections.schemas import (
    ActivityRequest,
    DisputeRequest,
    DisputeResolutionRequest,
    PaymentPlanRequest,
    PromiseRequest,
    WriteOffRequest,
)
from serving.deps import EngineDep, require_roles
from serving.http_errors import responses

router = APIRouter(prefix="/v1", tags=["collections"], responses=responses(401, 403, 404, 422))
Reader = Annotated[
    Principal, require_roles(Role.collector, Role.credit_analyst, Role.data_scientist, Role.admin)
]
Writer = Annotated[Principal, require_roles(Role.collector, Role.credit_analyst, Role.admin)]
Approver = Annotated[Principal, require_roles(Role.credit_analyst, Role.admin)]
CustomerId = Annotated[str, Path(min_length=1, max_length=64)]
RecordId = Annotated[str, Path(min_length=1, max_length=64)]
Limit = Annotated[int, Query(ge=1, le=1000)]


@router.post("/customers/{customer_id}/promises", response_model=PromiseOut, status_code=201)
def record_promise(
    customer_id: CustomerId, body: PromiseRequest, engine: EngineDep, user: Writer
) -> PromiseOut:
    """A promise to pay for listed invoices (or all the customer's open ones)."""
    return service.record_promise(engine, user, customer_id, body)


@router.get("/customers/{customer_id}/promises", response_model=list[PromiseOut])
def list_promises(
    customer_id: CustomerId, engine: EngineDep, user: Reader, limit: Limit = 100
) -> list[PromiseOut]:
    return service.list_promises(engine, user, customer_id, limit=limit)


@router.post("/customers/{customer_id}/disputes", response_model=list[DisputeOut], status_code=201)
def open_dispute(
    customer_id: CustomerId, body: DisputeRequest, engine: EngineDep, user: Writer
) -> list[DisputeOut]:
    """One dispute row per invoice; an open dispute holds dunning for its invoice only."""
    return service.open_dispute(engine, user, customer_id, body)


@router.get("/customers/{customer_id}/disputes", response_model=list[DisputeOut])
def list_disputes(
    customer_id: CustomerId,
    engine: EngineDep,
    user: Reader,
    status: DisputeStatus | None = None,
    limit: Limit = 100,
) -> list[DisputeOut]:
    return service.list_disputes(engine, user, customer_id, status=status, limit=limit)


@router.post("/disputes/{dispute_id}/resolve", response_model=DisputeOut, responses=responses(409))
def resolve_dispute(
    dispute_id: RecordId, body: DisputeResolutionRequest, engine: EngineDep, user: Writer
) -> DisputeOut:
    """Close an open dispute: credit note (optionally booked), rejected or withdrawn."""
    return service.resolve_dispute(engine, user, dispute_id, body)


@router.post("/customers/{customer_id}/payment-plans", response_model=PaymentPlanOut, status_code=201)
def create_payment_plan(
    customer_id: CustomerId, body: PaymentPlanRequest, engine: EngineDep, user: Writer
) -> PaymentPlanOut:
    """Installments agreed for a set of the customer's invoices; a current plan holds their dunning."""
    return service.create_payment_plan(engine, user, customer_id, body)


@router.get("/customers/{customer_id}/payment-plans", response_model=list[PaymentPlanOut])
def list_payment_plans(
    customer_id: CustomerId, engine: EngineDep, user: Reader, limit: Limit = 100
) -> list[PaymentPlanOut]:
    return service.list_payment_plans(engine, user, customer_id, limit=limit)


@router.post("/customers/{customer_id}/activities", response_model=ActivityOut, status_code=201)
def log_activity(
    customer_id: CustomerId, body: ActivityRequest, engine: EngineDep, user: Writer
) -> ActivityOut:
    """A call, email, letter or note; ``next_follow_up`` feeds the collector's worklist."""
    return service.log_activity(engine, user, customer_id, body)


@router.get("/customers/{customer_id}/activities", response_model=list[ActivityOut])
def list_activities(
    customer_id: CustomerId, engine: EngineDep, user: Reader, limit: Limit = 100
) -> list[ActivityOut]:
    """Newest first."""
    return service.list_activities(engine, user, customer_id, limit=limit)


@router.post("/write-offs", response_model=WriteOffOut, status_code=201)
def request_write_off(body: WriteOffRequest, engine: EngineDep, user: Writer) -> WriteOffOut:
    """Ask for a write-off; the open amount changes only once another person approves it."""
    return service.request_write_off(engine, user, body)


@router.post("/write-offs/{write_off_id}/approve", response_model=WriteOffOut, responses=responses(409))
def approve_write_off(write_off_id: RecordId, engine: EngineDep, user: Approver) -> WriteOffOut:
    """An admin or credit analyst other than the requester (403 for the requester)."""
    return service.decide_write_off(engine, user, write_off_id, approve=True)


@router.post("/write-offs/{write_off_id}/reject", response_model=WriteOffOut, responses=responses(409))
def reject_write_off(write_off_id: RecordId, engine: EngineDep, user: Approver) -> WriteOffOut:
    return service.decide_write_off(engine, user, write_off_id, approve=False)


@router.get("/write-offs", response_model=list[WriteOffOut])
def list_write_offs(
    engine: EngineDep,
    user: Reader,
    status: WriteOffStatus | None = None,
    customer_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    limit: Limit = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> list[WriteOffOut]:
    """Newest first; a collector sees only their own customers' write-offs."""
    return service.list_write_offs(
        engine, user, status=status, customer_id=customer_id, limit=limit, offset=offset
    )
