"""Payment plans: a current plan holds dunning for its invoices; a missed installment breaks it."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Engine, select

from arrisk.collections._records import customer_invoices, get_customer, today
from arrisk.collections.actor import WRITE_ROLES, Actor, new_id, require_role
from arrisk.collections.book import CENT, Book, explode_invoice_ids, live_allocations, read_book
from arrisk.collections.schemas import InstallmentOut, PaymentPlanIn, PaymentPlanOut, PlanStatus
from arrisk.errors import ValidationError
from arrisk.store import audit
from arrisk.store.db import session_scope
from arrisk.store.tables import PaymentPlan, PlanInstallment

DEFAULT_GRACE_DAYS = 5


def create_payment_plan(
    engine: Engine, customer_id: str, plan: PaymentPlanIn, *, actor: Actor
) -> PaymentPlanOut:
    """Agree installments for a set of the customer's invoices."""
    require_role(actor, WRITE_ROLES, action="create payment plan")
    created = plan.created_at or today()
    if plan.installments[0].due_date < created:
        raise ValidationError(
            f"payment plan: first installment {plan.installments[0].due_date} is before created_at {created}"
        )
    with session_scope(engine) as session:
        get_customer(session, customer_id)
        customer_invoices(session, customer_id, plan.invoice_ids)
        row = PaymentPlan(
            plan_id=new_id("PP"),
            customer_id=customer_id,
            created_at=created,
            invoice_ids=plan.invoice_ids,
            status=PlanStatus.current.value,
        )
        session.add(row)
        session.flush()
        items = [
            PlanInstallment(plan_id=row.plan_id, seq=n, due_date=i.due_date, amount=i.amount)
            for n, i in enumerate(plan.installments, start=1)
        ]
        session.add_all(items)
        session.flush()
        after = (audit.row_dict(row) or {}) | {"installments": [audit.row_dict(i) for i in items]}
        audit.record(
            session,
            actor=actor.user_id,
            action="payment_plan.create",
            entity="payment_plans",
            entity_id=row.plan_id,
            after=after,
        )
        return _out(row, items)


def _out(row: PaymentPlan, items: list[PlanInstallment]) -> PaymentPlanOut:
    return PaymentPlanOut(
        plan_id=row.plan_id,
        customer_id=row.customer_id,
        created_at=row.created_at,
        invoice_ids=row.invoice_ids,
        status=PlanStatus(row.status),
        broken_at=row.broken_at,
        installments=[InstallmentOut.model_validate(i) for i in items],
    )


def _grace(frame: pd.DataFrame, grace_days: int | pd.Series) -> pd.Series:
    if isinstance(grace_days, pd.Series):
        mapped = frame["customer_id"].map(grace_days).fillna(DEFAULT_GRACE_DAYS)
        return pd.to_timedelta(mapped.astype("int64"), unit="D")
    return pd.Series(pd.Timedelta(days=grace_days), index=frame.index)


def plan_states(
    book: Book, as_of: dt.date, *, grace_days: int | pd.Series = DEFAULT_GRACE_DAYS
) -> pd.DataFrame:
    """Each plan made by the date with its state: broken once paid-to-date falls short of the
    installments due at any installment's due date plus grace; completed once all is paid."""
    day = pd.Timestamp(as_of)
    plans = book.plans.loc[book.plans["created_at"] <= day].copy()
    inst = book.installments.merge(plans[["plan_id", "customer_id", "created_at"]], on="plan_id")
    inst = inst.sort_values(["plan_id", "seq"])
    inst["due_to_date"] = inst.groupby("plan_id")["amount"].cumsum()
    inst["checkpoint"] = inst["due_date"] + _grace(inst, grace_days)
    pairs = explode_invoice_ids(plans, "plan_id", book.invoices, since="created_at")
    allocs = live_allocations(book.allocations, as_of).merge(pairs, on="invoice_id")
    allocs = allocs.merge(plans[["plan_id", "created_at"]], on="plan_id")
    allocs = allocs.loc[allocs["applied_at"] >= allocs["created_at"], ["plan_id", "applied_at", "amount"]]
    checks = inst.loc[inst["checkpoint"] < day, ["plan_id", "seq", "checkpoint", "due_to_date"]]
    paid_by = checks.merge(allocs, on="plan_id", how="left")
    paid_by = (
        paid_by.loc[paid_by["applied_at"] <= paid_by["checkpoint"]]
        .groupby(["plan_id", "seq"])["amount"]
        .sum()
    )
    checks = checks.set_index(["plan_id", "seq"])
    checks["paid"] = paid_by.reindex(checks.index).fillna(0.0)
    missed = checks.loc[checks["paid"] < checks["due_to_date"] - CENT].reset_index()
    broken_at = (missed.groupby("plan_id")["checkpoint"].min() + pd.Timedelta(days=1)).rename(
        "computed_broken_at"
    )
    plans = plans.merge(broken_at, left_on="plan_id", right_index=True, how="left")
    manual = plans["broken_at"].where(plans["broken_at"] <= day)
    plans["broken_on"] = plans[["computed_broken_at"]].assign(m=manual).min(axis=1)
    total = inst.groupby("plan_id")["amount"].sum()
    paid_total = allocs.groupby("plan_id")["amount"].sum()
    plans["paid"] = plans["plan_id"].map(paid_total).fillna(0.0)
    plans["state"] = PlanStatus.current.value
    plans.loc[plans["paid"] >= plans["plan_id"].map(total).fillna(0.0) - CENT, "state"] = (
        PlanStatus.completed.value
    )
    plans.loc[plans["broken_on"].notna(), "state"] = PlanStatus.broken.value
    return plans[["plan_id", "customer_id", "created_at", "paid", "broken_on", "state"]]


def planned_invoices(
    book: Book, as_of: dt.date, *, grace_days: int | pd.Series = DEFAULT_GRACE_DAYS
) -> pd.Index:
    """Invoices under a plan that is current on the date."""
    states = plan_states(book, as_of, grace_days=grace_days)
    current = book.plans.loc[book.plans["plan_id"].isin(states.loc[states["state"] == "current", "plan_id"])]
    pairs = explode_invoice_ids(current, "plan_id", book.invoices, since="created_at")
    return pd.Index(pairs["invoice_id"].unique(), name="invoice_id")


def evaluate_plans(
    engine: Engine, as_of: dt.date, *, actor: Actor, grace_days: int = DEFAULT_GRACE_DAYS
) -> int:
    """Write each plan's state as of the date into the store (audited); returns how many changed."""
    require_role(actor, WRITE_ROLES, action="evaluate payment plans")
    states = plan_states(read_book(engine, as_of=as_of), as_of, grace_days=grace_days).set_index("plan_id")
    changed = 0
    with session_scope(engine) as session:
        for row in session.scalars(select(PaymentPlan).where(PaymentPlan.plan_id.in_(list(states.index)))):
            new = states.at[row.plan_id, "state"]
            broken_on = states.at[row.plan_id, "broken_on"]
            if row.status == new:
                continue
            before = audit.row_dict(row)
            row.status = new
            row.broken_at = broken_on.date() if pd.notna(broken_on) else None
            audit.record_row(session, row, actor=actor.user_id, action="payment_plan.evaluate", before=before)
            changed += 1
    return changed
