"""Collector records for the API: who may see which customer, then the ``arrisk.collections`` services.

Writes go through ``arrisk.collections`` (role rules and audit live there); this module adds the
portfolio rule (a collector's view of someone else's customer, dispute or invoice is a 404) and the
listings the service package has no function for.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from arrisk.collections import activities, disputes, plans, promises, writeoffs
from arrisk.collections.actor import Actor
from arrisk.collections.schemas import (
    ActivityIn,
    ActivityOut,
    DisputeIn,
    DisputeOut,
    DisputeResolution,
    DisputeStatus,
    InstallmentOut,
    PaymentPlanIn,
    PaymentPlanOut,
    PlanStatus,
    PromiseIn,
    PromiseOut,
    WriteOffIn,
    WriteOffOut,
    WriteOffStatus,
)
from arrisk.errors import NotFoundError
from arrisk.store.db import session_scope
from arrisk.store.tables import Customer, Dispute, Invoice, PaymentPlan, PlanInstallment, Promise, WriteOff
from serving.auth import Principal, Role
from serving.customers.access import visible_customer


def actor_of(user: Principal) -> Actor:
    return Actor(user_id=user.user_id, role=user.role.value)


def _owner_of(engine: Engine, column: Any, key: Any, value: str, what: str) -> str:
    with engine.connect() as conn:
        customer_id = conn.execute(select(column).where(key == value)).scalar()
    if customer_id is None:
        raise NotFoundError(f"{what} {value!r} not found")
    return str(customer_id)


def _visible_owner(engine: Engine, user: Principal, *, column: Any, key: Any, value: str, what: str) -> None:
    """404 for an unknown id, and for an id whose customer is outside a collector's portfolio."""
    customer_id = _owner_of(engine, column, key, value, what)
    try:
        visible_customer(engine, user, customer_id)
    except NotFoundError:
        raise NotFoundError(f"{what} {value!r} not found") from None


# ------------------------------------------------------------------ promises
def record_promise(engine: Engine, user: Principal, customer_id: str, promise: PromiseIn) -> PromiseOut:
    visible_customer(engine, user, customer_id)
    return promises.record_promise(engine, customer_id, promise, actor=actor_of(user))


def list_promises(engine: Engine, user: Principal, customer_id: str, *, limit: int) -> list[PromiseOut]:
    """The customer's promises, newest first (status as last evaluated)."""
    visible_customer(engine, user, customer_id)
    with session_scope(engine) as session:
        rows = session.scalars(
            select(Promise)
            .where(Promise.customer_id == customer_id)
            .order_by(Promise.created_at.desc(), Promise.promise_id)
            .limit(limit)
        )
        return [PromiseOut.model_validate(r) for r in rows]


# ------------------------------------------------------------------ disputes
def open_dispute(engine: Engine, user: Principal, customer_id: str, dispute: DisputeIn) -> list[DisputeOut]:
    visible_customer(engine, user, customer_id)
    return disputes.open_dispute(engine, customer_id, dispute, actor=actor_of(user))


def list_disputes(
    engine: Engine, user: Principal, customer_id: str, *, status: DisputeStatus | None, limit: int
) -> list[DisputeOut]:
    """The customer's disputes, newest first, optionally only open or resolved ones."""
    visible_customer(engine, user, customer_id)
    query = select(Dispute).where(Dispute.customer_id == customer_id)
    if status is not None:
        query = query.where(Dispute.status == status)
    with session_scope(engine) as session:
        rows = session.scalars(query.order_by(Dispute.opened_at.desc(), Dispute.dispute_id).limit(limit))
        return [DisputeOut.model_validate(r) for r in rows]


def resolve_dispute(
    engine: Engine, user: Principal, dispute_id: str, resolution: DisputeResolution
) -> DisputeOut:
    _visible_owner(
        engine, user, column=Dispute.customer_id, key=Dispute.dispute_id, value=dispute_id, what="dispute"
    )
    return disputes.resolve_dispute(engine, dispute_id, resolution, actor=actor_of(user))


# ------------------------------------------------------------------ payment plans
def create_payment_plan(
    engine: Engine, user: Principal, customer_id: str, plan: PaymentPlanIn
) -> PaymentPlanOut:
    visible_customer(engine, user, customer_id)
    return plans.create_payment_plan(engine, customer_id, plan, actor=actor_of(user))


def list_payment_plans(
    engine: Engine, user: Principal, customer_id: str, *, limit: int
) -> list[PaymentPlanOut]:
    """The customer's plans, newest first, each with its installments."""
    visible_customer(engine, user, customer_id)
    with session_scope(engine) as session:
        rows = list(
            session.scalars(
                select(PaymentPlan)
                .where(PaymentPlan.customer_id == customer_id)
                .order_by(PaymentPlan.created_at.desc(), PaymentPlan.plan_id)
                .limit(limit)
            )
        )
        items: dict[str, list[InstallmentOut]] = {r.plan_id: [] for r in rows}
        for inst in session.scalars(
            select(PlanInstallment)
            .where(PlanInstallment.plan_id.in_(list(items)))
            .order_by(PlanInstallment.plan_id, PlanInstallment.seq)
        ):
            items[inst.plan_id].append(InstallmentOut.model_validate(inst))
        return [
            PaymentPlanOut(
                plan_id=r.plan_id,
                customer_id=r.customer_id,
                created_at=r.created_at,
                invoice_ids=r.invoice_ids,
                status=PlanStatus(r.status),
                broken_at=r.broken_at,
                installments=items[r.plan_id],
            )
            for r in rows
        ]


# ------------------------------------------------------------------ activities
def log_activity(engine: Engine, user: Principal, customer_id: str, activity: ActivityIn) -> ActivityOut:
    visible_customer(engine, user, customer_id)
    return activities.log_activity(engine, customer_id, activity, actor=actor_of(user))


def list_activities(engine: Engine, user: Principal, customer_id: str, *, limit: int) -> list[ActivityOut]:
    visible_customer(engine, user, customer_id)
    return activities.list_activities(engine, customer_id, limit=limit)


# ------------------------------------------------------------------ write-offs
def request_write_off(engine: Engine, user: Principal, request: WriteOffIn) -> WriteOffOut:
    _visible_owner(
        engine,
        user,
        column=Invoice.customer_id,
        key=Invoice.invoice_id,
        value=request.invoice_id,
        what="invoice",
    )
    return writeoffs.request_write_off(engine, request, actor=actor_of(user))


def decide_write_off(engine: Engine, user: Principal, write_off_id: str, *, approve: bool) -> WriteOffOut:
    """Approve or reject; the service refuses the requester and anyone but admins and credit analysts."""
    decide = writeoffs.approve_write_off if approve else writeoffs.reject_write_off
    return decide(engine, write_off_id, actor=actor_of(user))


def list_write_offs(
    engine: Engine,
    user: Principal,
    *,
    status: WriteOffStatus | None,
    customer_id: str | None,
    limit: int,
    offset: int,
) -> list[WriteOffOut]:
    """Write-offs newest first; a collector sees only those of their own customers."""
    query = select(WriteOff).join(Invoice, Invoice.invoice_id == WriteOff.invoice_id)
    if status is not None:
        query = query.where(WriteOff.status == status.value)
    if customer_id is not None:
        visible_customer(engine, user, customer_id)
        query = query.where(Invoice.customer_id == customer_id)
    if user.role == Role.collector:
        query = query.join(Customer, Customer.customer_id == Invoice.customer_id).where(
            Customer.collector_id == user.collector_id
        )
    query = query.order_by(WriteOff.date.desc(), WriteOff.write_off_id).limit(limit).offset(offset)
    with session_scope(engine) as session:
        return [WriteOffOut.model_validate(r) for r in session.scalars(query)]
