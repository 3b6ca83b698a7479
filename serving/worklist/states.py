"""Each customer's collection state on the as-of date: open dispute, current plan, promise, broken promise.

The states come from the collections domain (``arrisk.collections``), computed from dated facts, so a
past as-of date gives the state as it was then. Precedence: dispute, plan, pending promise, broken promise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd
from sqlalchemy import Engine, Select, select

from arrisk.collections.book import Book
from serving.worklist.policy import CustomerState, WorklistPolicy

IN_CHUNK = 5_000  # ids per IN (...) list: under SQLite's and PostgreSQL's bound-parameter limits


def _chunked(
    engine: Engine,
    statement: Callable[[list[str]], Select],
    ids: list[str],
    *,
    dates: tuple[str, ...],
    amounts: tuple[str, ...],
) -> pd.DataFrame:
    """One frame from ``statement(chunk)`` over the ids, ``IN_CHUNK`` at a time (an empty frame with
    the statement's columns when there are no ids)."""
    from arrisk.collections.book import read_frame

    chunks = [ids[i : i + IN_CHUNK] for i in range(0, len(ids), IN_CHUNK)] or [[]]
    frames = [read_frame(engine, statement(chunk), dates=dates, amounts=amounts) for chunk in chunks]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def state_book(engine: Engine, as_of: dt.date) -> Book:
    """The part of the collections book the states read, as ``read_book`` gives it: disputes, promises,
    plans and installments whole; of the ledger only the invoices that promises and plans cover and
    their allocations. ``read_book`` reads the whole ledger, which the refresh has in memory already:
    reading it again was the slowest part of ranking a book of a million open invoices."""
    from arrisk.collections.book import collection_records, money
    from arrisk.store import tables as t

    day = as_of
    records = collection_records(engine, day)
    disputes, promises, plans = records["disputes"], records["promises"], records["plans"]
    installments = records["installments"]
    # Promises and plans name their invoices, or (an empty list) cover the customer's invoices.
    listed: set[str] = set()
    whole: set[str] = set()
    for frame in (promises, plans):
        for customer, ids in zip(frame["customer_id"], frame["invoice_ids"], strict=True):
            if ids:
                listed.update(ids)
            else:
                whole.add(customer)
    invoice_columns = (
        t.Invoice.invoice_id,
        t.Invoice.customer_id,
        t.Invoice.invoice_number,
        t.Invoice.issue_date,
        t.Invoice.due_date,
        money(t.Invoice.amount),
        t.Invoice.currency,
    )
    invoices = _chunked(
        engine,
        lambda chunk: select(*invoice_columns).where(
            t.Invoice.issue_date <= day, t.Invoice.customer_id.in_(chunk)
        ),
        sorted(whole),
        dates=("issue_date", "due_date"),
        amounts=("amount",),
    )
    allocations = _chunked(
        engine,
        lambda chunk: select(
            t.Allocation.invoice_id,
            money(t.Allocation.amount),
            t.Allocation.applied_at,
            t.Allocation.reversed_at,
        ).where(t.Allocation.applied_at <= day, t.Allocation.invoice_id.in_(chunk)),
        sorted(listed | set(invoices["invoice_id"])),
        dates=("applied_at", "reversed_at"),
        amounts=("amount",),
    )
    unused = pd.DataFrame()
    return Book(
        customers=unused,
        invoices=invoices,
        payments=unused,
        allocations=allocations,
        credit_notes=unused,
        write_offs=unused,
        disputes=disputes,
        promises=promises,
        plans=plans,
        installments=installments,
        dunning_events=unused,
    )


def customer_states(
    engine: Engine, as_of: dt.date, customer_ids: pd.Index, policy: WorklistPolicy
) -> pd.Series:
    from arrisk.collections.book import disputed_invoices
    from arrisk.collections.plans import plan_states
    from arrisk.collections.promises import promise_states

    book = state_book(engine, as_of)
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
    dispute_ids = book.disputes.loc[book.disputes["invoice_id"].isin(disputed), "customer_id"]
    # Lowest precedence first: later assignments win.
    for ids, value in (
        (broken_ids, CustomerState.broken_promise),
        (pending_ids, CustomerState.promise_pending),
        (plan_ids, CustomerState.payment_plan),
        (dispute_ids, CustomerState.open_dispute),
    ):
        state[state.index.isin(pd.Index(ids).unique())] = value.value
    return state
