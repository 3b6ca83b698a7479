"""A small random ledger with every kind of event, for the feature tests and benchmark fallbacks.

Not the project's generator (``arrisk.ledger.generator``); this one only has to exercise every
feature and every as-of rule: partial and multi-invoice payments, reversals, credit notes,
disputes, promises, dunning, payment plans, write-offs and several currencies. Vectorised.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from arrisk.ledger.frames import LedgerFrames

DAY = pd.Timedelta(days=1)


def _days(rng: np.random.Generator, low: int, high: int, size: int) -> pd.TimedeltaIndex:
    return pd.to_timedelta(rng.integers(low, high, size), unit="D")


def _customers(rng: np.random.Generator, n: int, start: pd.Timestamp) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:07d}" for i in range(n)],
            "name": [f"Customer {i}" for i in range(n)],
            "country": rng.choice(["DE", "FR", "GB", "US"], n),
            "currency": rng.choice(["EUR", "EUR", "USD", "GBP"], n),
            "payment_terms_days": rng.choice([14, 30, 45, 60], n),
            "credit_limit": np.round(rng.lognormal(9.5, 1.0, n), 2),
            "created_at": start - _days(rng, 0, 720, n),
        }
    )


def _invoices(
    rng: np.random.Generator, customers: pd.DataFrame, start: pd.Timestamp, span: int
) -> pd.DataFrame:
    per_customer = rng.poisson(span / 30 * rng.uniform(0.3, 2.0, len(customers)))
    cust = np.repeat(np.arange(len(customers)), per_customer)
    n = len(cust)
    issue = start + _days(rng, 0, span, n)
    return pd.DataFrame(
        {
            "invoice_id": [f"I{i:08d}" for i in range(n)],
            "customer_id": customers["customer_id"].to_numpy()[cust],
            "invoice_number": [f"INV-{i}" for i in range(n)],
            "issue_date": issue,
            "due_date": issue + pd.to_timedelta(customers["payment_terms_days"].to_numpy()[cust], unit="D"),
            "amount": np.round(rng.lognormal(7.0, 1.0, n), 2),
            "currency": customers["currency"].to_numpy()[cust],
            "_cust": cust,
        }
    )


def generate_small_book(
    n_customers: int = 60, *, months: int = 12, seed: int = 0, start: date = date(2025, 1, 1)
) -> LedgerFrames:
    """A random book over ``months`` months; every event type appears for a few dozen customers."""
    rng = np.random.default_rng(seed)
    start_ts, span = pd.Timestamp(start), months * 30
    end = start_ts + span * DAY
    customers = _customers(rng, n_customers, start_ts)
    inv = _invoices(rng, customers, start_ts, span)
    n = len(inv)
    lateness = rng.exponential(12.0, n_customers)[inv["_cust"]] * rng.uniform(0, 2, n) - 5
    defaulter = rng.random(n_customers)[inv["_cust"]] < 0.08
    paid_on = inv["due_date"] + pd.to_timedelta(np.round(lateness), unit="D")
    paid = (~defaulter | (rng.random(n) < 0.3)) & (paid_on <= end)
    allocations, payments = _payments(rng, inv, paid.to_numpy(), paid_on, customers)
    credit = rng.random(n) < 0.04
    credit_notes = pd.DataFrame(
        {
            "credit_note_id": [f"CN{i}" for i in range(credit.sum())],
            "customer_id": inv["customer_id"][credit].to_numpy(),
            "invoice_id": inv["invoice_id"][credit].to_numpy(),
            "issue_date": (inv["issue_date"][credit] + _days(rng, 1, 60, credit.sum())).to_numpy(),
            "amount": np.round(inv["amount"][credit].to_numpy() * rng.uniform(0.05, 0.5, credit.sum()), 2),
            "currency": inv["currency"][credit].to_numpy(),
            "reason": "pricing",
        }
    )
    unpaid = ~paid.to_numpy()
    late_or_unpaid = unpaid | (lateness > 7)
    frames = LedgerFrames(
        customers=customers,
        invoices=inv.drop(columns="_cust"),
        payments=payments,
        allocations=allocations,
        credit_notes=credit_notes[credit_notes["issue_date"] <= end].reset_index(drop=True),
        disputes=_disputes(rng, inv, end),
        promises=_promises(rng, inv[late_or_unpaid], end),
        write_offs=_write_offs(rng, inv[unpaid & defaulter], end),
        fx_rates=_fx(start_ts, months),
        dunning_events=_dunning(inv, paid_on.where(paid), end),
        payment_plans=_plans(rng, customers, start_ts, span),
    )
    # its own stream, so the rest of the book does not move with the limit history
    frames.customers, frames.credit_limits = _limit_history(
        np.random.default_rng(seed + 7919), customers, start_ts, span
    )
    return frames


def _limit_history(
    rng: np.random.Generator, customers: pd.DataFrame, start: pd.Timestamp, span: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A first limit from the start for all, a later change for a third; the master holds the latest."""
    first = pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy(),
            "effective_date": pd.NaT,
            "credit_limit": customers["credit_limit"].to_numpy(),
            "currency": customers["currency"].to_numpy(),
        }
    )
    changed = customers[rng.random(len(customers)) < 0.33]
    later = pd.DataFrame(
        {
            "customer_id": changed["customer_id"].to_numpy(),
            "effective_date": (start + _days(rng, 0, span, len(changed))).to_numpy(),
            "credit_limit": np.round(
                changed["credit_limit"].to_numpy() * rng.uniform(0.5, 2.0, len(changed)), 2
            ),
            "currency": changed["currency"].to_numpy(),
        }
    )
    history = pd.concat([first, later], ignore_index=True)
    history["effective_date"] = history["effective_date"].astype("datetime64[ns]")
    master = customers.copy()
    master.loc[changed.index, "credit_limit"] = later["credit_limit"].to_numpy()
    return master, history


def _payments(
    rng: np.random.Generator, inv: pd.DataFrame, paid: np.ndarray, paid_on: pd.Series, customers: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    sel = inv[paid]
    when = paid_on[paid].to_numpy()
    split = rng.random(len(sel)) < 0.15  # paid in two parts, the first part two weeks earlier
    share = np.where(split, rng.uniform(0.2, 0.8, len(sel)), 1.0)
    week = pd.Series(when).dt.to_period("W").astype(str).to_numpy()
    first = pd.DataFrame(
        {
            "invoice_id": sel["invoice_id"].to_numpy(),
            "customer_id": sel["customer_id"].to_numpy(),
            "applied_at": when,
            "amount": np.round(sel["amount"].to_numpy() * share, 2),
            "currency": sel["currency"].to_numpy(),
            "key": week,
        }
    )
    rest = first[split].assign(
        applied_at=first["applied_at"][split] - pd.Timedelta(days=14),
        amount=(sel["amount"].to_numpy() - first["amount"].to_numpy())[split],
        key="early",
    )
    alloc = pd.concat([first, rest], ignore_index=True)
    # one payment per customer and week (or per early part): several invoices per payment happen
    alloc["payment_id"] = (
        "P"
        + alloc["customer_id"]
        + "_"
        + alloc["key"]
        + "_"
        + alloc.groupby(["customer_id", "key"]).ngroup().astype(str)
    )
    pay = alloc.groupby("payment_id", as_index=False).agg(
        payment_date=("applied_at", "min"),
        amount=("amount", "sum"),
        currency=("currency", "first"),
        customer_id=("customer_id", "first"),
    )
    alloc["applied_at"] = alloc["payment_id"].map(pay.set_index("payment_id")["payment_date"])
    alloc["reversed_at"] = pd.Series(pd.NaT, index=alloc.index, dtype="datetime64[ns]")
    wrong = alloc.sample(frac=0.02, random_state=int(rng.integers(1 << 30)))
    wrong = wrong.assign(
        applied_at=wrong["applied_at"] - pd.Timedelta(days=10),
        reversed_at=wrong["applied_at"] - pd.Timedelta(days=3),
    )
    alloc = pd.concat([alloc, wrong], ignore_index=True).drop(columns=["key", "customer_id"])
    alloc.insert(0, "allocation_id", [f"A{i}" for i in range(len(alloc))])
    return alloc, pay


def _disputes(rng: np.random.Generator, inv: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    sel = inv[rng.random(len(inv)) < 0.06]
    opened = sel["issue_date"] + _days(rng, 3, 40, len(sel))
    resolved = (opened + _days(rng, 5, 60, len(sel))).where(rng.random(len(sel)) < 0.7)
    out = pd.DataFrame(
        {
            "dispute_id": [f"D{i}" for i in range(len(sel))],
            "invoice_id": sel["invoice_id"],
            "opened_at": opened,
            "reason": "quality",
            "resolved_at": resolved.where(resolved <= end),
            "outcome": None,
            "amount": np.round(sel["amount"] * 0.5, 2),
        }
    )
    return out[out["opened_at"] <= end].reset_index(drop=True)


def _promises(rng: np.random.Generator, inv: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    sel = inv[rng.random(len(inv)) < 0.3]
    created = sel["due_date"] + _days(rng, 3, 20, len(sel))
    out = pd.DataFrame(
        {
            "promise_id": [f"PR{i}" for i in range(len(sel))],
            "customer_id": sel["customer_id"],
            "promised_date": created + _days(rng, 2, 15, len(sel)),
            "amount": sel["amount"],
            "created_at": created,
            "invoice_ids": None,
        }
    )
    return out[out["created_at"] <= end].reset_index(drop=True)


def _write_offs(rng: np.random.Generator, inv: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    when = inv["due_date"] + _days(rng, 120, 200, len(inv))
    out = pd.DataFrame(
        {
            "invoice_id": inv["invoice_id"],
            "date": when,
            "amount": inv["amount"],
            "write_off_id": [f"W{i}" for i in range(len(inv))],
        }
    )
    return out[out["date"] <= end].reset_index(drop=True)


def _dunning(inv: pd.DataFrame, paid_on: pd.Series, end: pd.Timestamp) -> pd.DataFrame:
    parts = []
    for level, after in ((1, 7), (2, 21), (3, 35)):
        sent = inv["due_date"] + pd.Timedelta(days=after)
        due = (paid_on.isna() | (paid_on > sent)) & (sent <= end)
        parts.append(
            pd.DataFrame(
                {
                    "invoice_id": inv["invoice_id"][due],
                    "customer_id": inv["customer_id"][due],
                    "level": level,
                    "event_date": sent[due],
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    out["level"] = out["level"].astype("int64")
    return out


def _plans(rng: np.random.Generator, customers: pd.DataFrame, start: pd.Timestamp, span: int) -> pd.DataFrame:
    sel = customers[rng.random(len(customers)) < 0.1]
    created = start + _days(rng, 30, span, len(sel))
    broken = (created + _days(rng, 20, 90, len(sel))).where(rng.random(len(sel)) < 0.5)
    return pd.DataFrame(
        {
            "plan_id": [f"PL{i}" for i in range(len(sel))],
            "customer_id": sel["customer_id"],
            "created_at": created,
            "status": np.where(broken.notna(), "broken", "current"),
            "broken_at": broken,
        }
    ).reset_index(drop=True)


def _fx(start: pd.Timestamp, months: int) -> pd.DataFrame:
    dates = pd.date_range(start - pd.Timedelta(days=31), periods=months + 2, freq="MS")
    wobble = 1 + 0.02 * np.sin(np.arange(len(dates)))
    return pd.concat(
        [
            pd.DataFrame(
                {"currency": c, "rate_date": dates, "rate_to_base": base * (wobble if c != "EUR" else 1.0)}
            )
            for c, base in (("EUR", 1.0), ("USD", 0.92), ("GBP", 1.17))
        ],
        ignore_index=True,
    )
