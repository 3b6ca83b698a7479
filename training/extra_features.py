"""Extra as-of features used by the real-data evaluations (candidates to move into ``features/`` later).

Every function reads the ledger only through ``features.asof.clip_book`` at the as-of date (or at
earlier month ends), so no fact dated after ``as_of`` can reach a value: moving later facts leaves
the output unchanged (tests/test_training_evaluate.py checks it).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from scipy.special import ndtr

from arrisk.ledger.frames import LedgerFrames
from features.asof import DAY, AsOfBook, clip_book, to_timestamp

OPEN_TOLERANCE = 0.005  # half a cent: an invoice with less open is settled
HALF_LIFE_DAYS = 90.0
SHRINK_INVOICES = 3.0  # pseudo-invoices at the book-wide rate behind every customer share and level
MIN_SPREAD_DAYS = 1.0  # days are whole: the payment-time model's noise is never taken below a day
MIN_SETTLED_FOR_MODEL = 30  # settled invoices in the book before the payment-time model is fitted


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
    out.update(_trajectory_summary(out, balances, limit, len(states)))
    frame = pd.DataFrame(out, index=ids).astype("float64")
    return frame.reset_index(names="customer_id")


def _trajectory_summary(
    out: dict[str, np.ndarray], balances: list[np.ndarray], limit: np.ndarray, months: int
) -> dict[str, np.ndarray]:
    """Shape of the month-end trajectory: level, spread and trend of utilisation; months paid in full,
    months with nothing owed and nothing invoiced; cash of each month against the previous month's
    new invoices (the statement it pays)."""
    bal = np.column_stack(balances[:months])  # month 0 (latest) ... months-1
    util = bal / limit[:, None]
    paid = np.column_stack([out[f"acct_paid_m{j}"] for j in range(months)])
    invoiced = np.column_stack([out[f"acct_invoiced_m{j}"] for j in range(months)])
    previous = np.column_stack(balances[1 : months + 1])  # balance at the month end before month j
    age = np.arange(months, dtype="float64")[::-1]  # oldest month first on the time axis
    centred = age - age.mean()
    slope = (bal * centred[None, :]).sum(axis=1) / (float((centred**2).sum()) or 1.0)
    paid_full = (previous > OPEN_TOLERANCE) & (paid >= previous)
    summary = {
        "acct_util_mean": util.mean(axis=1),
        "acct_util_std": util.std(axis=1),
        "acct_balance_trend": slope / limit,
        "acct_balance_mean": bal.mean(axis=1),
        "acct_paid_mean": paid.mean(axis=1),
        "acct_invoiced_mean": invoiced.mean(axis=1),
        "acct_paid_to_limit": paid.sum(axis=1) / limit,
        "acct_headroom": limit - bal[:, 0],
        "acct_months_zero_balance": (bal <= OPEN_TOLERANCE).sum(axis=1).astype("float64"),
        "acct_months_paid_full": paid_full.sum(axis=1).astype("float64"),
        "acct_months_idle": ((invoiced <= 0) & (bal <= OPEN_TOLERANCE)).sum(axis=1).astype("float64"),
    }
    for j in range(months - 1):
        summary[f"acct_paid_vs_invoiced_m{j}"] = _ratio(paid[:, j], invoiced[:, j + 1])
    return summary


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


def invoice_behaviour_features(
    frames: LedgerFrames,
    as_of: date | pd.Timestamp | str,
    *,
    channel: pd.Series | None = None,
    shrink: float = SHRINK_INVOICES,
) -> pd.DataFrame:
    """How each open invoice's customer has paid, from facts up to ``as_of``, one row per open invoice.

    ``channel`` (indexed by invoice id, values 0/1, e.g. paperless billing) is an invoice attribute
    known when the invoice is issued; without it every invoice counts as channel 0. Columns:

    - late shares shrunk toward the book's late share (``shrink`` pseudo-invoices): of all settled
      invoices, of the undisputed ones, of the last 5 settled, and counting open overdue invoices as
      late (they are, whatever happens next);
    - days to settle: mean of the last 5, of the undisputed ones, of those in this invoice's channel,
      spread, and the z-score of this invoice's terms against the customer's days to settle;
    - a pooled payment-time model fitted on every settled invoice of the book: days to settle =
      customer level + a * disputed + b * channel + noise (customer-demeaned least squares). It gives
      this invoice's expected days to settle and its probability of settling after due, mixing the
      disputed and undisputed cases by the customer's (shrunk) dispute rate, since whether this
      invoice will be disputed is not known at issue;
    - the age of the customer's oldest open invoice.
    """
    book = clip_book(frames, as_of)
    inv = book.invoices
    n_inv, n = len(inv), len(book.customer_ids)
    ch = np.zeros(n_inv)
    if channel is not None:
        ch = channel.reindex(book.invoice_ids).fillna(0.0).to_numpy(dtype="float64")
    disputed = np.zeros(n_inv, dtype=bool)
    disputed[book.disputes["inv"][book.disputes["inv"] >= 0].to_numpy()] = True
    paid = settlements(book)
    codes_ = paid.index.to_numpy()
    paid = paid.assign(
        late=(paid["days_late"] > 0).astype("float64"),
        disputed=disputed[codes_].astype("float64"),
        channel=ch[codes_],
        terms=(paid["due_date"] - paid["issue_date"]).dt.days.astype("float64"),
    )
    is_open = open_amounts(book) > OPEN_TOLERANCE
    cust = inv["cust"].to_numpy()
    prior = float(paid["late"].mean()) if len(paid) else 0.5
    per_cust = _behaviour_by_customer(paid, n, prior, shrink)
    overdue = is_open & (inv["due_date"] < book.as_of).to_numpy()
    n_overdue = np.bincount(cust, weights=overdue, minlength=n)
    n_paid = per_cust["n"].to_numpy()
    late_paid = per_cust["late_sum"].to_numpy()
    per_cust["hist_late_or_overdue_share"] = (late_paid + n_overdue + shrink * prior) / (
        n_paid + n_overdue + shrink
    )
    age = (book.as_of - inv["issue_date"]).dt.days.to_numpy().astype("float64")
    oldest = np.zeros(n)
    np.maximum.at(oldest, cust[is_open], age[is_open])
    per_cust["hist_oldest_open_age"] = oldest
    rows = per_cust.iloc[cust[is_open]].reset_index(drop=True)
    terms = (inv["due_date"] - inv["issue_date"]).dt.days.to_numpy().astype("float64")[is_open]
    own_channel = ch[is_open]
    same = _same_channel(paid, n)
    rows["hist_dts_mean_same_channel"] = np.where(
        own_channel > 0, same[1][cust[is_open]], same[0][cust[is_open]]
    )
    rows["hist_terms_z"] = (terms - rows["hist_dts_mean"].to_numpy()) / (
        rows["hist_dts_std"].to_numpy() + 3.0
    )
    model = _payment_time_model(paid, n, shrink)
    expected = model["level"][cust[is_open]] + model["b"] * own_channel
    spread = model["sigma"] * np.sqrt(1.0 + 1.0 / (n_paid[cust[is_open]] + shrink))
    rate = rows["hist_dispute_rate"].to_numpy()
    # late means settled after due: days to settle > terms (whole days, so the boundary is terms + 0.5)
    undisputed_late = ndtr((expected - terms - 0.5) / spread)
    disputed_late = ndtr((expected + model["a"] - terms - 0.5) / spread)
    rows["hist_expected_days_to_settle"] = expected + rate * model["a"]
    rows["hist_model_prob_late"] = (1 - rate) * undisputed_late + rate * disputed_late
    rows = rows.drop(columns=["n", "late_sum", "hist_dts_mean"])
    rows.insert(0, "invoice_id", np.asarray(book.invoice_ids[is_open], dtype=object))
    return rows.astype({c: "float64" for c in rows.columns if c != "invoice_id"})


def _behaviour_by_customer(paid: pd.DataFrame, n: int, prior: float, shrink: float) -> pd.DataFrame:
    cust = paid["cust"].to_numpy()
    late, dts, disputed = (
        paid["late"].to_numpy(),
        paid["days_to_settle"].to_numpy(),
        paid["disputed"].to_numpy(),
    )
    count = np.bincount(cust, minlength=n).astype("float64")
    late_sum = np.bincount(cust, weights=late, minlength=n)
    undisputed = disputed == 0
    n_und = np.bincount(cust[undisputed], minlength=n).astype("float64")
    last5 = paid.groupby("cust").tail(5)  # settlements come sorted by customer and settlement day
    n5 = np.bincount(last5["cust"], minlength=n).astype("float64")
    dispute_prior = float(disputed.mean()) if len(disputed) else 0.0
    dts_sum = np.bincount(cust, weights=dts, minlength=n)
    dts_sq = np.bincount(cust, weights=dts**2, minlength=n)
    mean = _ratio(dts_sum, count)
    return pd.DataFrame(
        {
            "n": count,
            "late_sum": late_sum,
            "hist_dts_mean": mean,
            "hist_late_share_shrunk": (late_sum + shrink * prior) / (count + shrink),
            "hist_late_share_undisputed": (
                np.bincount(cust[undisputed], weights=late[undisputed], minlength=n) + shrink * prior
            )
            / (n_und + shrink),
            "hist_late_share_last5": _ratio(
                np.bincount(last5["cust"], weights=last5["late"], minlength=n), n5
            ),
            "hist_dts_last5_mean": _ratio(
                np.bincount(last5["cust"], weights=last5["days_to_settle"], minlength=n), n5
            ),
            "hist_dts_mean_undisputed": _ratio(
                np.bincount(cust[undisputed], weights=dts[undisputed], minlength=n), n_und
            ),
            "hist_dts_std": np.where(
                count > 1, np.sqrt(np.clip(_ratio(dts_sq, count) - mean**2, 0, None)), np.nan
            ),
            "hist_dispute_rate": (np.bincount(cust, weights=disputed, minlength=n) + shrink * dispute_prior)
            / (count + shrink),
        }
    )


def _same_channel(paid: pd.DataFrame, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean days to settle of each customer's settled invoices in channel 0 and in channel 1."""
    out = []
    for value in (0.0, 1.0):
        part = paid[paid["channel"] == value]
        cust = part["cust"].to_numpy()
        out.append(
            _ratio(
                np.bincount(cust, weights=part["days_to_settle"].to_numpy(), minlength=n),
                np.bincount(cust, minlength=n).astype("float64"),
            )
        )
    return out[0], out[1]


def _payment_time_model(paid: pd.DataFrame, n: int, shrink: float) -> dict:
    """Days to settle = customer level + a * disputed + b * channel, fitted on the customer-demeaned
    settled invoices of the book; levels shrunk toward the book's mean by ``shrink`` invoices."""
    cust = paid["cust"].to_numpy()
    dts = paid["days_to_settle"].to_numpy()
    X = paid[["disputed", "channel"]].to_numpy()
    count = np.bincount(cust, minlength=n).astype("float64")
    if len(paid) < MIN_SETTLED_FOR_MODEL:
        overall = float(dts.mean()) if len(dts) else np.nan
        return {"a": 0.0, "b": 0.0, "sigma": np.nan, "level": np.full(n, overall)}

    def demeaned(values: np.ndarray) -> np.ndarray:
        means = np.bincount(cust, weights=values, minlength=n) / np.maximum(count, 1)
        return values - means[cust]

    Xd = np.column_stack([demeaned(X[:, 0]), demeaned(X[:, 1])])
    yd = demeaned(dts)
    coef = np.linalg.lstsq(Xd, yd, rcond=None)[0]
    resid = yd - Xd @ coef
    dof = max(len(dts) - int((count > 0).sum()) - 2, 1)
    adjusted = dts - X @ coef
    overall = float(adjusted.mean())
    level = (np.bincount(cust, weights=adjusted, minlength=n) + shrink * overall) / (count + shrink)
    return {
        "a": float(coef[0]),
        "b": float(coef[1]),
        "sigma": max(float(np.sqrt((resid**2).sum() / dof)), MIN_SPREAD_DAYS),
        "level": level,
    }
