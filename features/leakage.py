"""Leak checker: change the future, rebuild, and demand an identical snapshot.

For an as-of date D, each mutation appends or changes only facts dated after D (a new invoice, a
payment and its allocation, a dispute opened or resolved, a promise, a write-off, a credit note, a
dunning event, a reversal, a payment plan, every later fact scrambled). A leak-free feature builder
returns exactly the same tables for all of them; any difference is reported by mutation and column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd

from arrisk.ledger.frames import LedgerFrames
from features.asof import to_timestamp
from features.snapshot_io import Snapshot

Builder = Callable[[LedgerFrames, pd.Timestamp], Snapshot]
Mutation = Callable[[LedgerFrames, pd.Timestamp, np.random.Generator], LedgerFrames]


def _later(
    as_of: pd.Timestamp, rng: np.random.Generator, size: int | None = None
) -> pd.Timestamp | pd.Series:
    if size is None:
        return as_of + pd.Timedelta(days=int(rng.integers(1, 90)))
    return pd.Series(as_of + pd.to_timedelta(rng.integers(1, 90, size), unit="D"))


def _append(frame: pd.DataFrame, rows: dict) -> pd.DataFrame:
    new = pd.DataFrame(rows)
    return pd.concat(
        [frame, new.astype({c: frame[c].dtype for c in new.columns if c in frame})], ignore_index=True
    )


def _pick(frame: pd.DataFrame, rng: np.random.Generator, mask: np.ndarray | None = None) -> pd.Series:
    rows = frame if mask is None else frame[mask]
    return rows.iloc[int(rng.integers(len(rows)))]


def new_invoice(f: LedgerFrames, d: pd.Timestamp, rng: np.random.Generator) -> LedgerFrames:
    cust = _pick(f.customers, rng)
    issue = _later(d, rng)
    invoice = {
        "invoice_id": ["LEAK-I"],
        "customer_id": [cust["customer_id"]],
        "invoice_number": ["LEAK-1"],
        "issue_date": [issue],
        "due_date": [issue + pd.Timedelta(days=30)],
        "amount": [999.0],
        "currency": [cust["currency"]],
    }
    return replace(f, invoices=_append(f.invoices, invoice))


def new_payment(f: LedgerFrames, d: pd.Timestamp, rng: np.random.Generator) -> LedgerFrames:
    inv = _pick(f.invoices, rng, (f.invoices["issue_date"] <= d).to_numpy())
    when = _later(d, rng)
    pay = {
        "payment_id": ["LEAK-P"],
        "payment_date": [when],
        "amount": [inv["amount"]],
        "currency": [inv["currency"]],
        "customer_id": [inv["customer_id"]],
    }
    alloc = {
        "payment_id": ["LEAK-P"],
        "invoice_id": [inv["invoice_id"]],
        "amount": [inv["amount"]],
        "applied_at": [when],
    }
    return replace(f, payments=_append(f.payments, pay), allocations=_append(f.allocations, alloc))


def open_dispute(f: LedgerFrames, d: pd.Timestamp, rng: np.random.Generator) -> LedgerFrames:
    inv = _pick(f.invoices, rng, (f.invoices["issue_date"] <= d).to_numpy())
    row = {
        "dispute_id": ["LEAK-D"],
        "invoice_id": [inv["invoice_id"]],
        "opened_at": [_later(d, rng)],
        "amount": [inv["amount"]],
    }
    return replace(f, disputes=_append(f.disputes, row))


def resolve_disputes(f: LedgerFrames, d: pd.Timestamp, rng: np.random.Generator) -> LedgerFrames:
    disputes = f.disputes.copy()
    open_then = (disputes["opened_at"] <= d) & ~(disputes["resolved_at"] <= d)
    disputes.loc[open_then, "resolved_at"] = _later(d, rng, int(open_then.sum())).to_numpy()
    return replace(f, disputes=disputes)


def new_promise(f: LedgerFrames, d: pd.Timestamp, rng: np.random.Generator) -> LedgerFrames:
    cust = _pick(f.customers, rng)
    created = _later(d, rng)
    row = {
        "promise_id": ["LEAK-PR"],
        "customer_id": [cust["customer_id"]],
        "created_at": [created],
        "promised_date": [created + pd.Timedelta(days=5)],
        "amount": [100.0],
    }
    return replace(f, promises=_append(f.promises, row))


def new_write_off(f: LedgerFrames, d: pd.Timestamp, rng: np.random.Generator) -> LedgerFrames:
    inv = _pick(f.invoices, rng, (f.invoices["issue_date"] <= d).to_numpy())
    row = {"invoice_id": [inv["invoice_id"]], "date": [_later(d, rng)], "amount": [inv["amount"]]}
    return replace(f, write_offs=_append(f.write_offs, row))


def new_credit_note(f: LedgerFrames, d: pd.Timestamp, rng: np.random.Generator) -> LedgerFrames:
    inv = _pick(f.invoices, rng, (f.invoices["issue_date"] <= d).to_numpy())
    row = {
        "credit_note_id": ["LEAK-CN"],
        "customer_id": [inv["customer_id"]],
        "invoice_id": [inv["invoice_id"]],
        "issue_date": [_later(d, rng)],
        "amount": [inv["amount"]],
        "currency": [inv["currency"]],
    }
    return replace(f, credit_notes=_append(f.credit_notes, row))


def new_dunning_event(f: LedgerFrames, d: pd.Timestamp, rng: np.random.Generator) -> LedgerFrames:
    inv = _pick(f.invoices, rng, (f.invoices["issue_date"] <= d).to_numpy())
    row = {
        "invoice_id": [inv["invoice_id"]],
        "customer_id": [inv["customer_id"]],
        "level": [9],
        "event_date": [_later(d, rng)],
    }
    return replace(f, dunning_events=_append(f.dunning_events, row))


def reverse_allocations(f: LedgerFrames, d: pd.Timestamp, rng: np.random.Generator) -> LedgerFrames:
    alloc = f.allocations.copy()
    if "reversed_at" not in alloc:
        alloc["reversed_at"] = pd.Series(pd.NaT, index=alloc.index, dtype="datetime64[ns]")
    live = (alloc["applied_at"] <= d) & ~(alloc["reversed_at"] <= d)
    alloc.loc[live, "reversed_at"] = _later(d, rng, int(live.sum())).to_numpy()
    return replace(f, allocations=alloc)


def payment_plans(f: LedgerFrames, d: pd.Timestamp, rng: np.random.Generator) -> LedgerFrames:
    plans = f.payment_plans.copy()
    unbroken = (plans["created_at"] <= d) & ~(plans["broken_at"] <= d)
    plans.loc[unbroken, "broken_at"] = _later(d, rng, int(unbroken.sum())).to_numpy()
    cust = _pick(f.customers, rng)
    row = {
        "plan_id": ["LEAK-PL"],
        "customer_id": [cust["customer_id"]],
        "created_at": [_later(d, rng)],
        "status": ["current"],
        "broken_at": [pd.NaT],
    }
    return replace(f, payment_plans=_append(plans, row))


def credit_limit_change(f: LedgerFrames, d: pd.Timestamp, rng: np.random.Generator) -> LedgerFrames:
    """A limit decided after D: a history row dated then, and the master already holding it.

    A book without limit history treats the master limit as reference data (like payment terms),
    so there is nothing dated to move.
    """
    if f.credit_limits.empty:
        return f
    cust = _pick(f.customers, rng)
    new_limit = float(rng.uniform(1, 1e6))
    row = {
        "customer_id": [cust["customer_id"]],
        "effective_date": [_later(d, rng)],
        "credit_limit": [new_limit],
        "currency": [cust["currency"]],
    }
    customers = f.customers.copy()
    customers.loc[customers["customer_id"] == cust["customer_id"], "credit_limit"] = new_limit
    return replace(f, customers=customers, credit_limits=_append(f.credit_limits, row))


def new_customer(f: LedgerFrames, d: pd.Timestamp, rng: np.random.Generator) -> LedgerFrames:
    row = {
        "customer_id": ["LEAK-C"],
        "name": ["Late Comer"],
        "country": ["DE"],
        "currency": ["EUR"],
        "payment_terms_days": [30],
        "credit_limit": [1000.0],
        "created_at": [_later(d, rng)],
    }
    return replace(f, customers=_append(f.customers, row))


# table -> date column that places its rows in time
DATED = {
    "invoices": "issue_date",
    "payments": "payment_date",
    "allocations": "applied_at",
    "credit_notes": "issue_date",
    "disputes": "opened_at",
    "promises": "created_at",
    "write_offs": "date",
    "dunning_events": "event_date",
    "payment_plans": "created_at",
    "credit_limits": "effective_date",
}

LATER_OUTCOMES = ("resolved_at", "reversed_at", "broken_at")


def scramble_future(f: LedgerFrames, d: pd.Timestamp, rng: np.random.Generator) -> LedgerFrames:
    """Every fact dated after D: amounts rescaled, dates moved (still after D), a third dropped."""
    changed = {}
    for name, col in DATED.items():
        frame = getattr(f, name).copy()
        later = (frame[col] > d).to_numpy()
        if "amount" in frame:
            frame.loc[later, "amount"] = frame.loc[later, "amount"] * rng.uniform(0.5, 2.0, later.sum())
        for c in frame.columns:
            if pd.api.types.is_datetime64_any_dtype(frame[c]):
                # later rows move all their dates; earlier rows only their later outcomes (resolved, reversed)
                rows = later | np.full(len(frame), c in LATER_OUTCOMES)
                moved = rows & (frame[c] > d).to_numpy()
                frame.loc[moved, c] = frame.loc[moved, c] + pd.to_timedelta(
                    rng.integers(0, 30, moved.sum()), "D"
                )
        changed[name] = frame[~(later & (rng.random(len(frame)) < 0.33))].reset_index(drop=True)
    return replace(f, **changed)


MUTATIONS: dict[str, Mutation] = {
    m.__name__: m
    for m in (
        new_invoice,
        new_payment,
        open_dispute,
        resolve_disputes,
        new_promise,
        new_write_off,
        new_credit_note,
        new_dunning_event,
        reverse_allocations,
        payment_plans,
        credit_limit_change,
        new_customer,
        scramble_future,
    )
}


def mutated_books(frames: LedgerFrames, as_of: pd.Timestamp, seed: int) -> Iterator[tuple[str, LedgerFrames]]:
    rng = np.random.default_rng(seed)
    for name, mutate in MUTATIONS.items():
        yield name, mutate(frames, as_of, rng)


def snapshot_differences(a: Snapshot, b: Snapshot) -> list[str]:
    """Columns whose values differ between two snapshots (NaN equals NaN), per table."""
    out: list[str] = []
    for table in ("customers", "invoices"):
        x, y = getattr(a, table), getattr(b, table)
        if x.shape != y.shape or list(x.columns) != list(y.columns):
            out.append(f"{table}: shape {x.shape} vs {y.shape}")
            continue
        out.extend(
            f"{table}.{c}"
            for c in x.columns
            if not x[c].reset_index(drop=True).equals(y[c].reset_index(drop=True))
        )
    return out


def check_leak_free(
    frames: LedgerFrames, as_of: date | pd.Timestamp | str, *, build: Builder | None = None, seed: int = 0
) -> list[str]:
    """Messages ``mutation: table.column`` for every feature that moved; empty means no leak found."""
    from features.pipeline import build_snapshot

    builder: Builder = build or build_snapshot
    as_of = to_timestamp(as_of)
    base = builder(frames, as_of)
    problems: list[str] = []
    for name, changed in mutated_books(frames, as_of, seed):
        problems.extend(f"{name}: {diff}" for diff in snapshot_differences(base, builder(changed, as_of)))
    return problems
