"""Assemble one customer's view from the newest worklist run and the live ledger (no FastAPI here)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, and_, func, or_, select

from arrisk.store import tables as t
from serving.auth import Principal
from serving.customers.access import visible_customer
from serving.customers.schemas import (
    ActivityView,
    CustomerScores,
    CustomerView,
    DisputeView,
    Exposure,
    OpenInvoice,
    PlanView,
    PromiseView,
)
from serving.tables import WorklistInvoice, WorklistItem, WorklistRun

BUCKETS = ((0, "current"), (30, "1-30"), (60, "31-60"), (90, "61-90"), (10**9, "90+"))
CENTS = Decimal("0.01")


def fx_rate(conn: Any, currency: str, base: str, as_of: Any) -> Decimal | None:
    """Units of base currency per unit of ``currency`` on the latest rate dated by ``as_of``."""
    if currency == base:
        return Decimal(1)
    stmt = select(t.FxRate.rate_to_base).where(t.FxRate.currency == currency)
    if as_of is not None:
        stmt = stmt.where(t.FxRate.rate_date <= as_of)
    return conn.execute(stmt.order_by(t.FxRate.rate_date.desc()).limit(1)).scalar()


def aging(invoices: list[OpenInvoice]) -> dict[str, Decimal]:
    out = {name: Decimal("0.00") for _, name in BUCKETS}
    for inv in invoices:
        name = next(n for edge, n in BUCKETS if inv.days_past_due <= edge)
        out[name] += inv.open_amount
    return out


def unapplied_cash(conn: Any, customer_id: str, base: str, as_of: Any) -> Decimal:
    """Payments by the customer less their live allocations, per currency, converted to base."""
    live = and_(t.Allocation.payment_id == t.Payment.payment_id, t.Allocation.reversed_at.is_(None))
    applied = select(func.coalesce(func.sum(t.Allocation.amount), 0)).where(live).scalar_subquery()
    rows = conn.execute(
        select(t.Payment.currency, func.sum(t.Payment.amount - applied))
        .where(t.Payment.customer_id == customer_id)
        .group_by(t.Payment.currency)
    ).all()
    total = Decimal(0)
    for currency, amount in rows:
        rate = fx_rate(conn, currency, base, as_of) or Decimal(0)
        total += max(Decimal(str(amount or 0)), Decimal(0)) * Decimal(str(rate))
    return total.quantize(CENTS)


def _records(conn: Any, customer_id: str) -> dict[str, list[Any]]:
    promises = conn.execute(
        select(t.Promise)
        .where(t.Promise.customer_id == customer_id)
        .order_by(t.Promise.created_at.desc())
        .limit(20)
    ).all()
    disputes = conn.execute(
        select(t.Dispute)
        .where(
            t.Dispute.customer_id == customer_id,
            or_(t.Dispute.status == "open", t.Dispute.resolved_at.is_(None)),
        )
        .order_by(t.Dispute.opened_at.desc())
        .limit(50)
    ).all()
    plans = conn.execute(
        select(t.PaymentPlan)
        .where(t.PaymentPlan.customer_id == customer_id)
        .order_by(t.PaymentPlan.created_at.desc())
        .limit(10)
    ).all()
    acts = conn.execute(
        select(t.Activity)
        .where(t.Activity.customer_id == customer_id)
        .order_by(t.Activity.occurred_at.desc())
        .limit(10)
    ).all()
    duns = conn.execute(
        select(t.DunningEvent)
        .where(t.DunningEvent.customer_id == customer_id)
        .order_by(t.DunningEvent.event_date.desc())
        .limit(10)
    ).all()
    activity = [ActivityView(at=a.occurred_at, kind=a.kind, detail=a.outcome or a.note) for a in acts]
    activity += [
        ActivityView(
            at=d.event_date,
            kind=f"dunning_level_{d.level}",
            detail=f"{d.channel}, invoice {d.invoice_id}, {d.status}",
        )
        for d in duns
    ]
    activity.sort(key=lambda a: str(a.at), reverse=True)
    return {
        "promises": [PromiseView.model_validate(p) for p in promises],
        "disputes": [DisputeView(**{**p._mapping, "status": "open"}) for p in disputes],
        "payment_plans": [PlanView.model_validate(p) for p in plans],
        "recent_activity": activity[:10],
    }


def customer_view(engine: Engine, *, user: Principal, customer_id: str, base_currency: str) -> CustomerView:
    customer = visible_customer(engine, user, customer_id)
    with engine.connect() as conn:
        run = conn.execute(
            select(WorklistRun.run_id, WorklistRun.as_of).order_by(WorklistRun.run_id.desc()).limit(1)
        ).first()
        item = inv_rows = None
        if run is not None:
            item = conn.execute(
                select(WorklistItem).where(
                    WorklistItem.run_id == run.run_id, WorklistItem.customer_id == customer_id
                )
            ).first()
            inv_rows = conn.execute(
                select(WorklistInvoice)
                .where(WorklistInvoice.run_id == run.run_id, WorklistInvoice.customer_id == customer_id)
                .order_by(WorklistInvoice.due_date)
            ).all()
        invoices = [OpenInvoice.model_validate(r) for r in inv_rows or []]
        as_of = run.as_of if run else None
        rate = fx_rate(conn, customer.currency, base_currency, as_of)
        open_amount = sum((i.open_amount for i in invoices), Decimal("0.00"))
        limit_base = customer.credit_limit * rate if customer.credit_limit and rate else None
        exposure = Exposure(
            base_currency=base_currency,
            open_amount=open_amount,
            overdue_amount=sum((i.open_amount for i in invoices if i.days_past_due > 0), Decimal("0.00")),
            aging=aging(invoices),
            credit_limit=customer.credit_limit,
            credit_limit_currency=customer.currency,
            credit_utilisation=float(open_amount / limit_base) if limit_base else None,
            unapplied_cash=unapplied_cash(conn, customer_id, base_currency, as_of),
        )
        records = _records(conn, customer_id)
    scores = (
        CustomerScores.model_validate(
            {k: v for k, v in item._mapping.items() if k in CustomerScores.model_fields}
        )
        if item
        else None
    )
    return CustomerView(
        customer_id=customer.customer_id,
        name=customer.name,
        segment=customer.segment,
        collector_id=customer.collector_id,
        currency=customer.currency,
        payment_terms_days=customer.payment_terms_days,
        as_of=as_of,
        exposure=exposure,
        scores=scores,
        open_invoices=invoices,
        **records,
    )
