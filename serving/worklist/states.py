"""Each customer's collection state on the as-of date: open dispute, current plan, promise, broken promise.

The states come from the collections domain (``arrisk.collections``), computed from dated facts, so a
past as-of date gives the state as it was then. Precedence: dispute, plan, pending promise, broken promise.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Engine

from serving.worklist.policy import CustomerState, WorklistPolicy


def customer_states(
    engine: Engine, as_of: dt.date, customer_ids: pd.Index, policy: WorklistPolicy
) -> pd.Series:
    from arrisk.collections.book import disputed_invoices, read_book
    from arrisk.collections.plans import plan_states
    from arrisk.collections.promises import promise_states

    book = read_book(engine, as_of=as_of)
    state = pd.Series(CustomerState.none.value, index=customer_ids, dtype=object)
    day = pd.Timestamp(as_of)
    promises = promise_states(book, as_of)
    broken = promises.loc[promises["state"] == "broken"]
    recent = day - pd.Timedelta(days=policy.broken_promise_lookback_days)
    broken_ids = broken.loc[broken["deadline"] >= recent, "customer_id"]
    latest = promises.sort_values(["created_at", "promise_id"]).groupby("customer_id")["state"].last()
    pending_ids = latest.index[latest == "open"]
    plans = plan_states(book, as_of) if len(book.plans) else pd.DataFrame(columns=["customer_id", "state"])
    plan_ids = plans.loc[plans["state"] == "current", "customer_id"]
    disputed = disputed_invoices(book, as_of)
    dispute_ids = book.invoices.loc[book.invoices["invoice_id"].isin(disputed), "customer_id"]
    # Lowest precedence first: later assignments win.
    for ids, value in (
        (broken_ids, CustomerState.broken_promise),
        (pending_ids, CustomerState.promise_pending),
        (plan_ids, CustomerState.payment_plan),
        (dispute_ids, CustomerState.open_dispute),
    ):
        state[state.index.isin(pd.Index(ids).unique())] = value.value
    return state
