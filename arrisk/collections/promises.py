"""Promises to pay: recorded by collectors, judged kept, partly kept or broken after a grace period."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Engine, select

from arrisk.collections._records import customer_invoices, get_customer, today
from arrisk.collections.actor import WRITE_ROLES, Actor, new_id, require_role
from arrisk.collections.book import CENT, Book, explode_invoice_ids, live_allocations, read_book
from arrisk.collections.schemas import PromiseIn, PromiseOut, PromiseState
from arrisk.errors import ValidationError
from arrisk.store import audit
from arrisk.store.db import session_scope
from arrisk.store.tables import Promise

DEFAULT_GRACE_DAYS = 3


def record_promise(engine: Engine, customer_id: str, promise: PromiseIn, *, actor: Actor) -> PromiseOut:
    """Store a promise to pay (for listed invoices, or all the customer's open ones)."""
    require_role(actor, WRITE_ROLES, action="record promise")
    created = promise.created_at or today()
    if promise.promised_date < created:
        raise ValidationError(
            f"promise: promised_date {promise.promised_date} is before created_at {created}"
        )
    with session_scope(engine) as session:
        customer = get_customer(session, customer_id)
        customer_invoices(session, customer_id, promise.invoice_ids)
        row = Promise(
            promise_id=new_id("P"),
            customer_id=customer_id,
            created_at=created,
            promised_date=promise.promised_date,
            amount=promise.amount,
            currency=promise.currency or customer.currency,
            invoice_ids=promise.invoice_ids or None,
            status=PromiseState.open.value,
        )
        session.add(row)
        audit.record_row(session, row, actor=actor.user_id, action="promise.create")
        return PromiseOut.model_validate(row)


def _grace(frame: pd.DataFrame, grace_days: int | pd.Series) -> pd.Series:
    if isinstance(grace_days, pd.Series):
        mapped = frame["customer_id"].map(grace_days).fillna(DEFAULT_GRACE_DAYS)
        return pd.to_timedelta(mapped.astype("int64"), unit="D")
    return pd.Series(pd.Timedelta(days=grace_days), index=frame.index)


def promise_states(
    book: Book, as_of: dt.date, *, grace_days: int | pd.Series = DEFAULT_GRACE_DAYS
) -> pd.DataFrame:
    """Each promise made by the date, with what was paid towards it and its state on that date.

    Paid counts allocations to the promise's invoices applied between the day it was made and the
    promised date plus grace; it is kept once paid reaches the amount, and judged after the grace.
    """
    day = pd.Timestamp(as_of)
    p = book.promises.loc[book.promises["created_at"] <= day].copy()
    p["deadline"] = p["promised_date"] + _grace(p, grace_days)
    pairs = explode_invoice_ids(p, "promise_id", book.invoices, since="created_at")
    allocs = live_allocations(book.allocations, as_of).merge(pairs, on="invoice_id")
    allocs = allocs.merge(p[["promise_id", "created_at", "deadline"]], on="promise_id")
    in_window = (allocs["applied_at"] >= allocs["created_at"]) & (allocs["applied_at"] <= allocs["deadline"])
    paid = allocs.loc[in_window].groupby("promise_id")["amount"].sum()
    p["paid"] = p["promise_id"].map(paid).fillna(0.0)
    kept = p["paid"] >= p["amount"] - CENT
    pending = day <= p["deadline"]
    p["state"] = PromiseState.broken.value
    p.loc[~kept & ~pending & (p["paid"] > CENT), "state"] = PromiseState.partly_kept.value
    p.loc[~kept & pending, "state"] = PromiseState.open.value
    p.loc[kept, "state"] = PromiseState.kept.value
    return p[
        ["promise_id", "customer_id", "created_at", "promised_date", "deadline", "amount", "paid", "state"]
    ]


def promised_invoices(
    book: Book, as_of: dt.date, *, grace_days: int | pd.Series = DEFAULT_GRACE_DAYS
) -> pd.Index:
    """Invoices covered by a promise made by the date whose promised date plus grace is not past."""
    day = pd.Timestamp(as_of)
    p = book.promises.loc[book.promises["created_at"] <= day]
    live = p.loc[day <= p["promised_date"] + _grace(p, grace_days)]
    pairs = explode_invoice_ids(live, "promise_id", book.invoices, since="created_at")
    return pd.Index(pairs["invoice_id"].unique(), name="invoice_id")


def customer_promise_state(
    engine: Engine, as_of: dt.date, *, lookback_days: int = 90, grace_days: int = DEFAULT_GRACE_DAYS
) -> pd.DataFrame:
    """Per customer: counts of promises by state, the latest promise's state, and whether one broke
    within ``lookback_days`` (the worklist raises such a customer's priority)."""
    states = promise_states(read_book(engine, as_of=as_of), as_of, grace_days=grace_days)
    counts = pd.crosstab(states["customer_id"], states["state"]).reindex(
        columns=[s.value for s in PromiseState], fill_value=0
    )
    latest = states.sort_values(["created_at", "promise_id"]).groupby("customer_id")["state"].last()
    broken = states.loc[states["state"] == PromiseState.broken.value]
    last_broken = broken.groupby("customer_id")["deadline"].max()
    out = counts.add_suffix("_promises")
    out["latest_state"] = latest
    out["last_broken_on"] = last_broken
    recent = pd.Timestamp(as_of) - pd.Timedelta(days=lookback_days)
    out["broken_recently"] = out["last_broken_on"].notna() & (out["last_broken_on"] >= recent)
    return out.rename_axis("customer_id").reset_index()


def evaluate_promises(
    engine: Engine, as_of: dt.date, *, actor: Actor, grace_days: int = DEFAULT_GRACE_DAYS
) -> int:
    """Write each promise's state as of the date into the store (audited); returns how many changed."""
    require_role(actor, WRITE_ROLES, action="evaluate promises")
    states = promise_states(read_book(engine, as_of=as_of), as_of, grace_days=grace_days).set_index(
        "promise_id"
    )
    changed = 0
    with session_scope(engine) as session:
        ids = list(states.index)
        for row in session.scalars(select(Promise).where(Promise.promise_id.in_(ids))):
            new = states.at[row.promise_id, "state"]
            if row.status != new:
                before = audit.row_dict(row)
                row.status = new
                audit.record_row(session, row, actor=actor.user_id, action="promise.evaluate", before=before)
                changed += 1
    return changed
