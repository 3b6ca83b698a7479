"""Training labels: what happened after the as-of date. These look ahead on purpose; features never do.

A label whose outcome window is not over by ``data_end`` (the last day the data covers) is unknown
(NaN), never "good": an invoice not yet settled and not yet ``late_days`` past due, or a customer
whose default horizon runs past the data.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from arrisk.ledger.frames import LedgerFrames
from features.asof import DAY, AsOfBook, clip_book, codes, to_timestamp
from features.config import FeatureConfig, default_config
from features.invoice_state import invoice_state

# table -> columns whose dates are events (due dates are promises, not events)
EVENT_DATES = {
    "invoices": ["issue_date"],
    "payments": ["payment_date"],
    "allocations": ["applied_at", "reversed_at"],
    "credit_notes": ["issue_date"],
    "disputes": ["opened_at", "resolved_at"],
    "promises": ["created_at"],
    "write_offs": ["date"],
    "dunning_events": ["event_date"],
    "payment_plans": ["created_at", "broken_at"],
}


def latest_event_date(frames: LedgerFrames) -> pd.Timestamp:
    """The last day any fact in the frames is dated: the default end of the observed data."""
    latest = [
        getattr(frames, table)[col].max()
        for table, cols in EVENT_DATES.items()
        for col in cols
        if col in getattr(frames, table) and len(getattr(frames, table))
    ]
    latest = [d for d in latest if pd.notna(d)]
    if not latest:
        from arrisk.errors import ValidationError

        raise ValidationError("ledger frames: no dated events, cannot tell where the data ends")
    return to_timestamp(max(latest))


def invoice_late_labels(
    frames: LedgerFrames,
    as_of: date | pd.Timestamp | str,
    *,
    late_days: int = 0,
    data_end: date | pd.Timestamp | str | None = None,
    config: FeatureConfig | None = None,
    open_ids: pd.Index | None = None,
    outcomes: dict[pd.Timestamp, tuple[AsOfBook, pd.DataFrame]] | None = None,
) -> pd.DataFrame:
    """For each invoice open on ``as_of``: late (1/0/NaN) and days late, judged with data up to data_end.

    Late = settled more than ``late_days`` after due, or written off, or still unsettled at data_end
    more than ``late_days`` after due. Unsettled and not yet that far past due = unknown (NaN).
    ``open_ids``: the invoices open on ``as_of`` where the caller already has them (a snapshot's
    invoice table), which saves cutting the book at ``as_of`` a second time. ``outcomes``: a cache,
    by day, of the book cut where the outcomes are read and its invoice states; every as-of date
    before the data's end reads them at that same end, so a caller labelling several dates of one
    book with one config passes the same dict and the book is cut there once.
    """
    config = config or default_config()
    as_of = to_timestamp(as_of)
    end = to_timestamp(data_end) if data_end is not None else latest_event_date(frames)
    if open_ids is None:
        now = clip_book(frames, as_of)
        open_ids = now.invoice_ids[invoice_state(now, config)["is_open"].to_numpy()]
    open_ids = pd.Index(open_ids)
    later, state = _cut(frames, max(end, as_of), config, outcomes)
    idx = codes(later.invoice_ids, pd.Series(open_ids))
    due = later.invoices["due_date"].to_numpy()[idx]
    settled_at = state["settled_at"].to_numpy()[idx]
    written_at = state["written_off_at"].to_numpy()[idx]
    settled = ~np.isnat(settled_at)
    written = ~np.isnat(written_at)
    outcome_day = np.where(written, written_at, np.where(settled, settled_at, end.to_datetime64()))
    days_late = (outcome_day - due) / DAY
    late = np.where(written | (days_late > late_days), 1.0, np.where(settled, 0.0, np.nan))
    days_late = np.where(np.isnan(late), np.nan, days_late)
    return pd.DataFrame({"invoice_id": open_ids.to_numpy(), "late": late, "days_late": days_late})


def _cut(
    frames: LedgerFrames,
    day: pd.Timestamp,
    config: FeatureConfig,
    outcomes: dict[pd.Timestamp, tuple[AsOfBook, pd.DataFrame]] | None,
) -> tuple[AsOfBook, pd.DataFrame]:
    """The book cut at ``day`` and its invoice states, from the ``outcomes`` cache where it is there."""
    cached = outcomes.get(day) if outcomes is not None else None
    if cached is None:
        later = clip_book(frames, day)
        cached = (later, invoice_state(later, config))
        if outcomes is not None:
            outcomes[day] = cached
    return cached


def _unsettles_after(frames: LedgerFrames, day: pd.Timestamp, end: pd.Timestamp) -> bool:
    """Whether a fact dated in (day, end] can undo a settlement made by ``day``: the reversal of an
    allocation applied by then, or a negative allocation, credit note or write-off (the importer
    refuses those; frames built otherwise may hold them)."""
    alloc = frames.allocations
    if "reversed_at" in alloc and len(alloc):
        reversed_at = alloc["reversed_at"]
        if ((reversed_at > day) & (reversed_at <= end) & ~(alloc["applied_at"] > day)).any():
            return True
    for table, column in (
        ("allocations", "applied_at"),
        ("credit_notes", "issue_date"),
        ("write_offs", "date"),
    ):
        frame = getattr(frames, table)
        if len(frame) and ((frame[column] > day) & (frame[column] <= end) & (frame["amount"] < 0)).any():
            return True
    return False


def customer_default_labels(
    frames: LedgerFrames,
    as_of: date | pd.Timestamp | str,
    *,
    horizon_days: int = 90,
    data_end: date | pd.Timestamp | str | None = None,
    default_dpd_days: int = 90,
    config: FeatureConfig | None = None,
    customer_ids: pd.Index | None = None,
    outcomes: dict[pd.Timestamp, tuple[AsOfBook, pd.DataFrame]] | None = None,
) -> pd.DataFrame:
    """Per customer known on ``as_of``: 1 if in (as_of, as_of + horizon] an invoice is ``default_dpd_days``
    past due with an open amount, or is written off; 0 if not; NaN if the horizon ends after data_end.
    ``customer_ids``: the customers known on ``as_of`` where the caller already has them.

    What was settled and written off by the horizon's end is read from the book cut at the data's
    end: facts dated after the horizon do not change when an invoice was settled or first written
    off by then (a settlement day is the first day the running total covers the invoice, and the
    total only grows), so one cut (``outcomes``, as for ``invoice_late_labels``) serves every as-of
    date. Where a later fact could undo a settlement (``_unsettles_after``: a reversal), the book is
    cut at the horizon's end instead. Amounts are in base currency at the rates of the cut's day.
    """
    config = config or default_config()
    as_of = to_timestamp(as_of)
    end = to_timestamp(data_end) if data_end is not None else latest_event_date(frames)
    window_end = as_of + pd.Timedelta(days=horizon_days)
    customer_ids = pd.Index(
        customer_ids if customer_ids is not None else clip_book(frames, as_of).customer_ids
    )
    if window_end > end:
        return pd.DataFrame(
            {"customer_id": customer_ids.to_numpy(), "default": np.full(len(customer_ids), np.nan)}
        )
    cut_day = window_end if _unsettles_after(frames, window_end, end) else end
    later, state = _cut(frames, cut_day, config, outcomes)
    due = later.invoices["due_date"].to_numpy()
    # the first day in the window on which the invoice is default_dpd_days past due
    reach = np.maximum(
        due + np.timedelta64(default_dpd_days, "D"), (as_of + pd.Timedelta(days=1)).to_datetime64()
    )
    settled_at = state["settled_at"].to_numpy()
    still_open = np.isnat(settled_at) | (settled_at > reach)
    written_at = state["written_off_at"].to_numpy()
    written = (written_at > as_of.to_datetime64()) & (written_at <= window_end.to_datetime64())
    bad = ((reach <= window_end.to_datetime64()) & still_open) | written
    bad_ids = later.customer_ids.to_numpy()[np.unique(later.invoices["cust"].to_numpy()[bad])]
    default = customer_ids.isin(bad_ids).astype("float64")  # hashing: np.isin compares objects pairwise
    return pd.DataFrame({"customer_id": customer_ids.to_numpy(), "default": default})
