"""Customer features from payment history, exposure and activity: pure functions of an ``AsOfBook``.

Each function returns one row per customer code (``0..n-1``), vectorised with bincount/group-bys.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.asof import DAY, AsOfBook
from features.catalogue import _bucket_names
from features.config import FeatureConfig


def total(n: int, cust: np.ndarray | pd.Series, weights: np.ndarray | pd.Series | None = None) -> np.ndarray:
    """Sum (or count, without weights) per customer code."""
    w = None if weights is None else np.asarray(weights, dtype="float64")
    return np.bincount(np.asarray(cust), weights=w, minlength=n)[:n].astype("float64")


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, NaN where den is zero or missing."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def reindexed(series: pd.Series, n: int, fill: float = np.nan) -> np.ndarray:
    return series.reindex(pd.RangeIndex(n), fill_value=fill).to_numpy(dtype="float64")


def group_max(n: int, group: np.ndarray, values: np.ndarray, empty: float = np.nan) -> np.ndarray:
    """Largest value per group code (``empty`` for a group without rows); values have no NaN."""
    out = np.full(n, -np.inf)
    np.maximum.at(out, group, values)
    out[np.bincount(group, minlength=n)[:n] == 0] = empty
    return out


def group_latest(n: int, group: np.ndarray, when: np.ndarray) -> np.ndarray:
    """Latest date per group code, NaT where none (NaT is int64's minimum, so max leaves it alone)."""
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]").view("int64")
    np.maximum.at(out, group, np.asarray(when, dtype="datetime64[ns]").view("int64"))
    return out.view("datetime64[ns]")


def group_earliest(n: int, group: np.ndarray, when: np.ndarray) -> np.ndarray:
    """Earliest date per group code, NaT where none; dates must not be NaT."""
    top = np.iinfo("int64").max
    out = np.full(n, top, dtype="int64")
    np.minimum.at(out, group, np.asarray(when, dtype="datetime64[ns]").view("int64"))
    out[out == top] = np.iinfo("int64").min
    return out.view("datetime64[ns]")


def days(delta: np.ndarray | pd.Series) -> np.ndarray:
    return np.asarray(delta, dtype="timedelta64[ns]") / DAY


def paid_invoices(book: AsOfBook, state: pd.DataFrame) -> dict[str, np.ndarray]:
    """Invoices settled by payment or credit note, with days late / days to pay, in settlement order.

    Plain arrays (``cust``, ``amount``, ``settled_at``, ``days_late``, ``days_to_pay``), rows sorted by
    customer, then settlement date: a frame here would only copy them twice more.
    """
    settled_all = state["settled_at"].to_numpy()
    mask = ~np.isnat(settled_all) & ~state["settled_by_write_off"].to_numpy()
    rows = np.flatnonzero(mask)
    cust = book.invoices["cust"].to_numpy()[rows]
    settled = settled_all[rows]
    order = rows.take(stable_order(cust, settled))
    settled = settled_all[order]
    return {
        "cust": book.invoices["cust"].to_numpy()[order],
        "amount": book.invoices["amount"].to_numpy()[order],
        "settled_at": settled,
        "days_late": np.maximum(0.0, days(settled - book.invoices["due_date"].to_numpy()[order])),
        "days_to_pay": days(settled - book.invoices["issue_date"].to_numpy()[order]),
    }


def group_std(n: int, group: np.ndarray, values: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Population standard deviation per group code (two passes: mean, then squared deviations)."""
    mean = ratio(total(n, group, values), count)
    dev = values - mean[group]
    return np.sqrt(ratio(total(n, group, dev * dev), count))


def stable_order(group: np.ndarray, when: np.ndarray) -> np.ndarray:
    """Row order by group code, then date, ties kept in input order (as a stable two-column sort).

    Both are packed into one int64 (group * number of date ranks + date rank): one argsort.
    """
    rank, n_ranks = date_rank(when)
    return np.argsort(group.astype("int64") * n_ranks + rank, kind="stable")


def date_rank(when: np.ndarray) -> tuple[np.ndarray, int]:
    """Order-keeping small integers for dates (NaT-free), and how many there can be.

    Midnight dates (the ledger's) rank by whole days since the earliest, with no sort; dates with
    a time of day fall back to their rank among the distinct values.
    """
    ns = np.asarray(when, dtype="datetime64[ns]").view("int64")
    if len(ns) == 0:
        return np.zeros(0, dtype="int64"), 1
    day = DAY.astype("timedelta64[ns]").astype("int64")
    if not (ns % day).any():
        first = int(ns.min())
        return (ns - first) // day, int((int(ns.max()) - first) // day) + 1
    distinct, rank = np.unique(ns, return_inverse=True)
    return rank.reshape(-1).astype("int64"), len(distinct)


def lateness_features(book: AsOfBook, state: pd.DataFrame, config: FeatureConfig) -> pd.DataFrame:
    """How late the customer paid so far: level, tail, recent level, trend and regularity."""
    n = len(book.customer_ids)
    paid = paid_invoices(book, state)
    cust, late = paid["cust"], paid["days_late"]
    count = total(n, cust)
    out = {
        "n_paid_invoices": count,
        "days_late_mean": ratio(total(n, cust, late), count),
        "days_late_wmean": ratio(total(n, cust, late * paid["amount"]), total(n, cust, paid["amount"])),
        "days_late_max": group_max(n, cust, late),
    }
    # rows are sorted by customer: position from the end of its block of rows
    from_end = np.cumsum(count).astype("int64")[cust] - 1 - np.arange(len(cust))
    last = from_end < config.last_n_invoices
    out[f"days_late_last{config.last_n_invoices}_mean"] = ratio(
        total(n, cust[last], late[last]), total(n, cust[last])
    )
    out["days_late_trend"] = _trend(n, cust, late, from_end, config.trend_n_invoices)
    out["days_to_pay_mean"] = ratio(total(n, cust, paid["days_to_pay"]), count)
    out["days_to_pay_std"] = group_std(n, cust, paid["days_to_pay"], count)
    for t in config.late_thresholds_days:
        out[f"share_late_over_{t}d"] = ratio(total(n, cust, late > t), count)
    return pd.DataFrame(out)


def _trend(n: int, cust: np.ndarray, late: np.ndarray, from_end: np.ndarray, window: int) -> np.ndarray:
    """Least-squares slope of days late against invoice position, over each customer's last invoices."""
    keep = from_end < window
    c, y, x = cust[keep], late[keep], -from_end[keep].astype("float64")
    k, sx, sy = total(n, c), total(n, c, x), total(n, c, y)
    sxy, sxx = total(n, c, x * y), total(n, c, x * x)
    den = k * sxx - sx * sx
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((k >= 2) & (den > 0), (k * sxy - sx * sy) / np.where(den > 0, den, 1.0), np.nan)


def exposure_features(book: AsOfBook, state: pd.DataFrame, config: FeatureConfig) -> pd.DataFrame:
    """What the customer owes on the as-of date, how overdue it is, and against which limit."""
    n = len(book.customer_ids)
    is_open = state["is_open"].to_numpy()
    inv = book.invoices[is_open]
    cust, amount = inv["cust"].to_numpy(), state["open_amount"].to_numpy()[is_open]
    dpd = days(book.as_of.to_datetime64() - inv["due_date"].to_numpy())
    open_amount = total(n, cust, amount)
    overdue = dpd > 0
    limit = book.customers["credit_limit"].to_numpy()
    out = {
        "open_amount": open_amount,
        "overdue_amount": total(n, cust[overdue], amount[overdue]),
        "n_open_invoices": total(n, cust),
        "n_overdue_invoices": total(n, cust[overdue]),
        "oldest_days_past_due": group_max(n, cust, np.maximum(dpd, 0), empty=0.0),
        "credit_limit": limit,
        "credit_utilisation": ratio(open_amount, limit),
        "payment_terms_days": book.customers["payment_terms_days"].to_numpy(),
    }
    out["share_overdue"] = ratio(out["overdue_amount"], open_amount)
    soon = (dpd <= 0) & (dpd >= -config.due_soon_days)
    out[f"due_next_{config.due_soon_days}d_amount"] = total(n, cust[soon], amount[soon])
    edges = [-np.inf, 0, *config.aging_bucket_edges_days, np.inf]
    bucket = np.searchsorted(np.asarray(edges[1:-1], dtype="float64"), dpd, side="left")
    for b, (name, _) in enumerate(_bucket_names(config)):
        mask = bucket == b
        out[name] = total(n, cust[mask], amount[mask])
    return pd.DataFrame(out)


def activity_features(book: AsOfBook, config: FeatureConfig) -> pd.DataFrame:
    """Volume and recency: invoicing and payments over windows, growth, tenure."""
    n = len(book.customer_ids)
    as_of = book.as_of.to_datetime64()
    inv, alloc = book.invoices, book.allocations
    inv_age = days(as_of - inv["issue_date"].to_numpy())
    alloc_age = days(as_of - alloc["applied_at"].to_numpy())
    cust, amount = inv["cust"].to_numpy(), inv["amount"].to_numpy()
    out: dict[str, np.ndarray] = {}
    for w in config.activity_windows_days:
        recent = inv_age < w
        out[f"invoiced_amount_{w}d"] = total(n, cust[recent], amount[recent])
        out[f"n_invoices_{w}d"] = total(n, cust[recent])
        recent_alloc = alloc_age < w
        out[f"paid_amount_{w}d"] = total(
            n, alloc["cust"].to_numpy()[recent_alloc], alloc["amount"][recent_alloc]
        )
    for w in config.activity_windows_days[:-1]:
        before = (inv_age >= w) & (inv_age < 2 * w)
        out[f"invoiced_growth_{w}d"] = (
            ratio(out[f"invoiced_amount_{w}d"], total(n, cust[before], amount[before])) - 1
        )
    first_invoice = pd.Series(group_earliest(n, cust, inv["issue_date"].to_numpy()))
    created = book.customers["created_at"]
    start = pd.concat([first_invoice.reset_index(drop=True), created], axis=1).min(axis=1)
    out["tenure_days"] = days(as_of - start.to_numpy(dtype="datetime64[ns]"))
    out["days_since_last_invoice"] = days(as_of - group_latest(n, cust, inv["issue_date"].to_numpy()))
    out["days_since_last_payment"] = days(as_of - _last_payment(book, n))
    out["n_invoices"] = total(n, cust)
    out["invoice_amount_mean"] = ratio(total(n, cust, amount), out["n_invoices"])
    return pd.DataFrame(out)


def _last_payment(book: AsOfBook, n: int) -> np.ndarray:
    """Latest payment date or allocation date per customer (payments of unknown customers aside)."""
    pays = book.payments[book.payments["cust"] >= 0]
    by_payment = group_latest(n, pays["cust"].to_numpy(), pays["payment_date"].to_numpy())
    by_allocation = group_latest(
        n, book.allocations["cust"].to_numpy(), book.allocations["applied_at"].to_numpy()
    )
    return np.maximum(by_payment.view("int64"), by_allocation.view("int64")).view("datetime64[ns]")
