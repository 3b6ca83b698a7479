"""Customer behaviour features: partial payments, disputes, promises, dunning, plans, write-offs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.asof import DAY, AsOfBook
from features.config import FeatureConfig
from features.customer import days, ratio, reindexed, total
from features.invoice_state import tolerance


def payment_habit_features(book: AsOfBook, config: FeatureConfig) -> pd.DataFrame:
    """Share of partial allocations and of payments spread over several invoices."""
    n = len(book.customer_ids)
    alloc = book.allocations
    inv_amount = book.invoices["amount"].to_numpy()[alloc["inv"].to_numpy()]
    partial = alloc["amount"].to_numpy() < config.partial_payment_share * inv_amount
    cust = alloc["cust"].to_numpy()
    known = alloc[alloc["pay"] >= 0]
    per_payment = known.groupby(["pay", "cust"], sort=False)["inv"].nunique().reset_index()
    multi = per_payment["inv"].to_numpy() >= 2
    pay_cust = per_payment["cust"].to_numpy()
    return pd.DataFrame(
        {
            "share_partial_allocations": ratio(total(n, cust, partial), total(n, cust)),
            "share_multi_invoice_payments": ratio(total(n, pay_cust, multi), total(n, pay_cust)),
        }
    )


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
    """Total allocated to each customer's invoices on or before each day (one array per ``days_``)."""
    alloc = book.allocations.groupby(["cust", "applied_at"], as_index=False, sort=True)["amount"].sum()
    alloc["paid"] = alloc.groupby("cust", sort=False)["amount"].cumsum()
    alloc = alloc.sort_values("applied_at", kind="stable")[["cust", "applied_at", "paid"]]
    out = []
    for when in days_:
        query = pd.DataFrame({"cust": cust, "when": when, "row": np.arange(len(cust))}).sort_values("when")
        merged = pd.merge_asof(
            query, alloc, left_on="when", right_on="applied_at", by="cust", direction="backward"
        )
        out.append(merged.sort_values("row")["paid"].fillna(0.0).to_numpy())
    return out


def promise_features(book: AsOfBook, config: FeatureConfig) -> pd.DataFrame:
    """Promises to pay, judged only by allocations known on the as-of date (stored statuses are ignored)."""
    n = len(book.customer_ids)
    prom = book.promises
    cust = prom["cust"].to_numpy()
    deadline = prom["promised_date"].to_numpy() + config.promise_grace_days * DAY
    until = np.minimum(deadline, book.as_of.to_datetime64())
    if len(prom):
        by_deadline, before = _paid_by(book, cust, until, prom["created_at"].to_numpy() - DAY)
        covered = by_deadline - before
    else:
        covered = np.zeros(0)
    amount = prom["amount"].to_numpy()
    kept = covered >= amount - tolerance(amount, config)
    matured = deadline <= book.as_of.to_datetime64()
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
