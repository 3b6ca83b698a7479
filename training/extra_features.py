"""Extra as-of features used by the real-data evaluations (candidates to move into ``features/`` later).

Every function reads the ledger only through ``features.asof.clip_book`` at the as-of date (or at
earlier month ends), so no fact dated after ``as_of`` can reach a value: moving later facts leaves
the output unchanged (tests/test_training_evaluate.py checks it).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from arrisk.ledger.frames import LedgerFrames
from features.asof import DAY, AsOfBook, clip_book, to_timestamp

OPEN_TOLERANCE = 0.005  # half a cent: an invoice with less open is settled
HALF_LIFE_DAYS = 90.0


def month_ends(as_of: date | pd.Timestamp | str, months: int) -> list[pd.Timestamp]:
    """``as_of`` then the ``months - 1`` month ends before it, latest first."""
    as_of = to_timestamp(as_of)
    first = as_of + pd.offsets.MonthEnd(0)
    ends = [first - pd.offsets.MonthEnd(j) for j in range(1, months)]
    return [as_of, *[e for e in ends if e < as_of][: months - 1]]


def open_amounts(book: AsOfBook) -> np.ndarray:
    """Open amount of every invoice in the book: amount less allocations, credit notes and write-offs."""
    n = len(book.invoices)
    settled = np.zeros(n)
    for frame in (book.allocations, book.credit_notes, book.write_offs):
        linked = frame[frame["inv"] >= 0]
        settled += np.bincount(linked["inv"].to_numpy(), weights=linked["amount"].to_numpy(), minlength=n)
    return book.invoices["amount"].to_numpy() - settled


def _account_state(book: AsOfBook, since: pd.Timestamp) -> pd.DataFrame:
    """Balance, days past due, cash received and invoiced since ``since``, per customer id of the book."""
    n = len(book.customer_ids)
    inv = book.invoices
    open_amount = open_amounts(book)
    is_open = open_amount > OPEN_TOLERANCE
    cust = inv["cust"].to_numpy()
    past_due = np.where(is_open, (book.as_of - inv["due_date"]).to_numpy() / DAY, -np.inf)
    dpd = np.full(n, -np.inf)
    np.maximum.at(dpd, cust, past_due)
    pay = book.payments[book.payments["cust"] >= 0]
    unapplied = np.clip(pay["amount"].to_numpy() - _applied_cash(book, pay["pay"].to_numpy()), 0, None)
    loose_credit = book.credit_notes[book.credit_notes["inv"] < 0]
    recent_pay = pay[(pay["payment_date"] > since).to_numpy()]
    recent_inv = inv[(inv["issue_date"] > since).to_numpy()]
    late_days = _late_allocations(book, since)
    recent_cn = book.credit_notes[(book.credit_notes["issue_date"] > since).to_numpy()]
    return pd.DataFrame(
        {
            "balance": np.bincount(cust, weights=np.clip(open_amount, 0, None), minlength=n)
            - np.bincount(pay["cust"], weights=unapplied, minlength=n)
            - np.bincount(loose_credit["cust"], weights=loose_credit["amount"], minlength=n),
            "dpd": np.clip(dpd, 0, None),
            "paid": np.bincount(recent_pay["cust"], weights=recent_pay["amount"], minlength=n),
            "invoiced": np.bincount(recent_inv["cust"], weights=recent_inv["amount"], minlength=n),
            "paid_late_days": late_days,
            "credited": np.bincount(recent_cn["cust"], weights=recent_cn["amount"], minlength=n),
        },
        index=book.customer_ids,
    )


def _late_allocations(book: AsOfBook, since: pd.Timestamp) -> np.ndarray:
    """Per customer, the most days after due of any cash applied since ``since`` (0: none late)."""
    alloc = book.allocations[(book.allocations["applied_at"] > since).to_numpy()]
    due = book.invoices["due_date"].to_numpy()[alloc["inv"].to_numpy()]
    late = np.clip((alloc["applied_at"].to_numpy() - due) / DAY, 0, None)
    out = np.zeros(len(book.customer_ids))
    np.maximum.at(out, alloc["cust"].to_numpy(), late)
    return out


def _applied_cash(book: AsOfBook, pay: np.ndarray) -> np.ndarray:
    """Amount of each payment (by code) already allocated to invoices."""
    alloc = book.allocations[book.allocations["pay"] >= 0]
    size = int(max(pay.max(initial=-1), alloc["pay"].max() if len(alloc) else -1)) + 1
    applied = np.bincount(alloc["pay"].to_numpy(), weights=alloc["amount"].to_numpy(), minlength=size)
    return applied[pay]


def monthly_account_features(
    frames: LedgerFrames, as_of: date | pd.Timestamp | str, *, months: int = 6
) -> pd.DataFrame:
    """Statement-style trajectory per customer: balance, days past due, cash and utilisation per month.

    Month 0 ends on ``as_of``, month j on the j-th month end before it; each month's state comes from
    the book clipped at that month end. Pay ratios divide a month's cash by the previous month-end
    balance; ``acct_util_change_3m`` is utilisation now minus three months ago.
    """
    ends = month_ends(as_of, months + 1)
    last = clip_book(frames, ends[0])
    ids, limit = last.customer_ids, last.customers["credit_limit"].to_numpy()
    states = []
    for j, end in enumerate(ends):
        book = last if j == 0 else clip_book(frames, end)
        since = ends[j + 1] if j + 1 < len(ends) else end - pd.offsets.MonthEnd(1)
        states.append(_account_state(book, since).reindex(ids))
    return _trajectory(states[:months], states[months], ids, np.where(limit > 0, limit, np.nan))


def _trajectory(
    states: list[pd.DataFrame], before: pd.DataFrame, ids: pd.Index, limit: np.ndarray
) -> pd.DataFrame:
    out: dict[str, np.ndarray] = {}
    balances = [s["balance"].to_numpy() for s in [*states, before]]
    for j, state in enumerate(states):
        out[f"acct_dpd_m{j}"] = state["dpd"].to_numpy()
        out[f"acct_balance_m{j}"] = balances[j]
        out[f"acct_util_m{j}"] = balances[j] / limit
        out[f"acct_paid_m{j}"] = state["paid"].to_numpy()
        out[f"acct_invoiced_m{j}"] = state["invoiced"].to_numpy()
        out[f"acct_pay_ratio_m{j}"] = _ratio(state["paid"].to_numpy(), balances[j + 1])
        out[f"acct_paid_late_days_m{j}"] = state["paid_late_days"].to_numpy()
        out[f"acct_credited_m{j}"] = state["credited"].to_numpy()
    dpd = np.column_stack([out[f"acct_dpd_m{j}"] for j in range(len(states))])
    paid = np.column_stack([out[f"acct_paid_m{j}"] for j in range(len(states))])
    out["acct_dpd_max_3m"] = np.nanmax(dpd[:, :3], axis=1)
    out["acct_dpd_max_all"] = np.nanmax(dpd, axis=1)
    out["acct_months_past_due"] = (dpd > 0).sum(axis=1).astype("float64")
    late_paid = np.column_stack([out[f"acct_paid_late_days_m{j}"] for j in range(len(states))])
    out["acct_months_paid_late"] = (late_paid > 0).sum(axis=1).astype("float64")
    out["acct_months_behind"] = ((late_paid > 0) | (dpd > 0)).sum(axis=1).astype("float64")
    out["acct_months_without_payment"] = (paid <= 0).sum(axis=1).astype("float64")
    out["acct_pay_ratio_3m"] = _ratio(paid[:, :3].sum(axis=1), np.sum(balances[1:4], axis=0))
    out["acct_pay_ratio_all"] = _ratio(paid.sum(axis=1), np.sum(balances[1:], axis=0))
    if len(states) > 3:
        out["acct_util_change_3m"] = out["acct_util_m0"] - out["acct_util_m3"]
    out["acct_util_max"] = np.nanmax(np.column_stack(balances[:-1]), axis=1) / limit
    frame = pd.DataFrame(out, index=ids).astype("float64")
    return frame.reset_index(names="customer_id")


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def settlements(book: AsOfBook) -> pd.DataFrame:
    """Invoices fully settled by the book's date: customer, issue, due and settlement day (last credit)."""
    inv = book.invoices
    settled = open_amounts(book) <= OPEN_TOLERANCE
    last = np.full(len(inv), np.datetime64("NaT"), dtype="datetime64[ns]")
    for frame, column in ((book.allocations, "applied_at"), (book.credit_notes, "issue_date"),
                          (book.write_offs, "date")):  # fmt: skip
        linked = frame[frame["inv"] >= 0]
        when = pd.Series(linked[column].to_numpy()).groupby(linked["inv"].to_numpy()).max()
        current = pd.Series(last[when.index.to_numpy()])
        last[when.index.to_numpy()] = np.where(
            current.isna() | (when.to_numpy() > current.to_numpy()), when.to_numpy(), current.to_numpy()
        )
    out = inv.loc[settled & ~np.isnat(last), ["cust", "issue_date", "due_date"]].copy()
    out["settled_at"] = last[settled & ~np.isnat(last)]
    out["days_late"] = (out["settled_at"] - out["due_date"]).dt.days.astype("float64")
    out["days_to_settle"] = (out["settled_at"] - out["issue_date"]).dt.days.astype("float64")
    return out.sort_values(["cust", "settled_at", "due_date"], kind="stable")


def invoice_history_features(
    frames: LedgerFrames, as_of: date | pd.Timestamp | str, *, half_life_days: float = HALF_LIFE_DAYS
) -> pd.DataFrame:
    """Recency-weighted payment history of each open invoice's customer, from facts up to ``as_of``.

    One row per invoice open at the end of ``as_of``: exponentially weighted days late and late share
    of the customer's settled invoices (weight halves every ``half_life_days`` since settlement), the
    last settlement's days late, days since the last late settlement, and how many of the customer's
    open invoices are overdue or older than the customer's median days to settle.
    """
    book = clip_book(frames, as_of)
    n = len(book.customer_ids)
    history = _history_by_customer(settlements(book), book.as_of, n, half_life_days)
    inv = book.invoices
    is_open = open_amounts(book) > OPEN_TOLERANCE
    cust = inv["cust"].to_numpy()
    age = (book.as_of - inv["issue_date"]).dt.days.to_numpy().astype("float64")
    overdue = is_open & (inv["due_date"] < book.as_of).to_numpy()
    behind = is_open & (age > history["hist_median_days_to_settle"].to_numpy()[cust])
    history["hist_n_open_overdue"] = np.bincount(cust, weights=overdue, minlength=n)
    history["hist_n_open_behind_usual"] = np.bincount(cust, weights=behind, minlength=n)
    rows = history.iloc[cust[is_open]].reset_index(drop=True)
    rows.insert(0, "invoice_id", np.asarray(book.invoice_ids[is_open], dtype=object))
    return rows


def _history_by_customer(paid: pd.DataFrame, as_of: pd.Timestamp, n: int, half_life: float) -> pd.DataFrame:
    cust = paid["cust"].to_numpy()
    weight = 0.5 ** ((as_of - paid["settled_at"]).dt.days.to_numpy() / half_life)
    late = (paid["days_late"].to_numpy() > 0).astype("float64")
    total = np.bincount(cust, weights=weight, minlength=n)
    grouped = paid.groupby("cust")
    last = grouped.tail(1).set_index("cust")
    last_late = paid[late > 0].groupby("cust")["settled_at"].max()
    out = pd.DataFrame(
        {
            "hist_ew_days_late": _ratio(
                np.bincount(cust, weights=weight * paid["days_late"], minlength=n), total
            ),
            "hist_ew_late_share": _ratio(np.bincount(cust, weights=weight * late, minlength=n), total),
            "hist_ew_days_to_settle": _ratio(
                np.bincount(cust, weights=weight * paid["days_to_settle"], minlength=n), total
            ),
            "hist_median_days_to_settle": grouped["days_to_settle"].median().reindex(range(n)).to_numpy(),
            "hist_last_days_late": last["days_late"].reindex(range(n)).to_numpy(),
            "hist_last3_days_late_mean": grouped.tail(3).groupby("cust")["days_late"].mean()
            .reindex(range(n)).to_numpy(),
            "hist_days_since_last_late": (as_of - last_late).dt.days.reindex(range(n)).to_numpy(),
            "hist_days_since_last_settlement": (as_of - last["settled_at"])
            .dt.days.reindex(range(n)).to_numpy(),
        }
    )  # fmt: skip
    return out.astype("float64")
