"""Customer behaviour features: partial payments, disputes, promises, dunning, plans, write-offs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.asof import DAY, AsOfBook
from features.config import FeatureConfig
from features.customer import date_rank, days, ratio, reindexed, total
from features.invoice_state import tolerance


def payment_habit_features(book: AsOfBook, config: FeatureConfig) -> pd.DataFrame:
    """Share of partial allocations and of payments spread over several invoices."""
    n = len(book.customer_ids)
    alloc = book.allocations
    inv_amount = book.invoices["amount"].to_numpy()[alloc["inv"].to_numpy()]
    partial = alloc["amount"].to_numpy() < config.partial_payment_share * inv_amount
    cust = alloc["cust"].to_numpy()
    pay_cust, multi = _invoices_per_payment(alloc, len(book.invoices))
    return pd.DataFrame(
        {
            "share_partial_allocations": ratio(total(n, cust, partial), total(n, cust)),
            "share_multi_invoice_payments": ratio(total(n, pay_cust, multi), total(n, pay_cust)),
        }
    )


def _invoices_per_payment(alloc: pd.DataFrame, n_invoices: int) -> tuple[np.ndarray, np.ndarray]:
    """Per (payment, customer) pair: the customer and whether the payment covered 2+ of its invoices.

    An invoice has one customer, so distinct (payment, invoice) pairs grouped by (payment, customer)
    count the distinct invoices; each pair is packed into one int64.
    """
    known = alloc["pay"].to_numpy() >= 0
    pay, inv = alloc["pay"].to_numpy()[known].astype("int64"), alloc["inv"].to_numpy()[known].astype("int64")
    cust_of_inv = np.zeros(n_invoices, dtype="int64")
    cust_of_inv[inv] = alloc["cust"].to_numpy()[known]
    width = max(n_invoices, 1)
    pairs = pd.unique(pay * width + inv)  # hashing, not sorting: order does not matter for counts
    pair_pay, pair_inv = pairs // width, pairs % width
    n_cust = int(cust_of_inv.max(initial=0)) + 1
    counts = pd.Series(pair_pay * n_cust + cust_of_inv[pair_inv]).value_counts(sort=False)
    groups = counts.index.to_numpy()
    return groups % n_cust, counts.to_numpy() >= 2


def dispute_features(book: AsOfBook, state: pd.DataFrame) -> pd.DataFrame:
    """Disputes opened by the as-of date; open = not resolved on or before it."""
    n = len(book.customer_ids)
    disputes = book.disputes
    cust = disputes["cust"].to_numpy()
    is_open = disputes["resolved_at"].isna().to_numpy()
    fallback = state["open_amount"].to_numpy()[disputes["inv"].to_numpy()]
    amount = np.where(np.isnan(disputes["amount"].to_numpy()), fallback, disputes["amount"].to_numpy())
    disputed = disputes.drop_duplicates("inv")["cust"].to_numpy()
    return pd.DataFrame(
        {
            "n_disputes": total(n, cust),
            "dispute_rate": ratio(total(n, disputed), total(n, book.invoices["cust"])),
            "n_open_disputes": total(n, cust[is_open]),
            "open_dispute_amount": total(n, cust[is_open], amount[is_open]),
        }
    )


def _paid_by(book: AsOfBook, cust: np.ndarray, *days_: np.ndarray) -> list[np.ndarray]:
    """Total allocated to each customer's invoices on or before each day (one array per ``days_``).

    Daily totals per customer, cumulated in date order; a (customer, day) pair is one sortable
    integer (customer * number of day ranks + day rank), so a look-up is a ``searchsorted``.
    """
    alloc = book.allocations
    rank, n_dates = date_rank(alloc["applied_at"].to_numpy())
    rank_on_or_before = _day_ranker(alloc["applied_at"].to_numpy(), n_dates)
    key = alloc["cust"].to_numpy().astype("int64") * n_dates + rank
    daily = pd.Series(alloc["amount"].to_numpy()).groupby(key, sort=True).sum()
    keys = daily.index.to_numpy()
    paid = pd.Series(daily.to_numpy()).groupby(keys // n_dates, sort=False).cumsum().to_numpy()
    out = []
    for when in days_:
        query = cust.astype("int64") * n_dates + rank_on_or_before(when)
        pos = np.searchsorted(keys, query, side="right") - 1
        found = (pos >= 0) & (keys[np.maximum(pos, 0)] // n_dates == cust) if len(keys) else pos >= 0
        out.append(np.where(found, paid[np.maximum(pos, 0)] if len(keys) else 0.0, 0.0))
    return out


def _day_ranker(applied: np.ndarray, n_dates: int):  # type: ignore[no-untyped-def]
    """when -> rank (as ``date_rank`` gives ``applied``) of the last allocation day on or before it, or -1."""
    ns = np.asarray(applied, dtype="datetime64[ns]").view("int64")
    day = DAY.astype("timedelta64[ns]").astype("int64")
    if len(ns) and not (ns % day).any():
        first = int(ns.min())
        return lambda when: np.clip(
            (np.asarray(when, dtype="datetime64[ns]").view("int64") - first) // day, -1, n_dates - 1
        )
    distinct = np.unique(ns)
    return lambda when: (
        np.searchsorted(distinct, np.asarray(when, dtype="datetime64[ns]").view("int64"), side="right") - 1
    )


def promise_features(book: AsOfBook, config: FeatureConfig) -> pd.DataFrame:
    """Promises to pay, judged only by allocations known on the as-of date (stored statuses are ignored)."""
    n = len(book.customer_ids)
    prom = book.promises
    cust = prom["cust"].to_numpy()
    deadline = prom["promised_date"].to_numpy() + config.promise_grace_days * DAY
    as_of = book.as_of.to_datetime64()
    until = np.where(np.isnat(deadline), as_of, np.minimum(deadline, as_of))  # no promised date: up to as_of
    if len(prom):
        by_deadline, before = _paid_by(book, cust, until, prom["created_at"].to_numpy() - DAY)
        covered = by_deadline - before
    else:
        covered = np.zeros(0)
    amount = prom["amount"].to_numpy()
    kept = covered >= amount - tolerance(amount, config)
    matured = deadline <= as_of
    broken = ~kept & matured
    n_kept, n_broken = total(n, cust[kept]), total(n, cust[broken])
    return pd.DataFrame(
        {
            "n_promises": total(n, cust),
            "n_promises_kept": n_kept,
            "n_promises_broken": n_broken,
            "n_promises_pending": total(n, cust[~kept & ~matured]),
            "promise_kept_rate": ratio(n_kept, n_kept + n_broken),
        }
    )


def dunning_plan_writeoff_features(
    book: AsOfBook, state: pd.DataFrame, config: FeatureConfig
) -> pd.DataFrame:
    """Highest dunning level, recent dunning, payment plans, write-offs and credit notes."""
    n = len(book.customer_ids)
    dun = book.dunning
    cust = dun["cust"].to_numpy()
    on_open = state["is_open"].to_numpy()[dun["inv"].to_numpy()]
    recent = days(book.as_of.to_datetime64() - dun["event_date"].to_numpy()) < config.dunning_recent_days
    plans, wo = book.plans, book.write_offs
    broken = plans["broken"].to_numpy()
    return pd.DataFrame(
        {
            "dunning_max_level": reindexed(dun.groupby("cust")["level"].max(), n, 0.0),
            "dunning_max_level_open": reindexed(dun[on_open].groupby("cust")["level"].max(), n, 0.0),
            f"n_dunning_{config.dunning_recent_days}d": total(n, cust[recent]),
            "n_payment_plans": total(n, plans["cust"]),
            "n_payment_plans_active": total(n, plans["cust"].to_numpy()[~broken]),
            "n_payment_plans_broken": total(n, plans["cust"].to_numpy()[broken]),
            "n_write_offs": total(n, wo["cust"]),
            "write_off_amount": total(n, wo["cust"], wo["amount"]),
            "credited_amount": total(n, book.credit_notes["cust"], book.credit_notes["amount"]),
        }
    )
