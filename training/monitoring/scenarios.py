"""Behaviour shifts applied to a book, for drift tests and the demo: what monitoring must catch."""

from __future__ import annotations

import dataclasses

import pandas as pd

from arrisk.ledger.frames import LedgerFrames


def delay_payments(frames: LedgerFrames, *, since: pd.Timestamp | str, days: int) -> LedgerFrames:
    """The same book, except every payment (and its allocations) dated from ``since`` on comes ``days``
    later. The input frames are not changed."""
    since, delay = pd.Timestamp(since), pd.Timedelta(days=days)
    allocations = frames.allocations.copy()
    allocations.loc[allocations["applied_at"] >= since, "applied_at"] += delay
    payments = frames.payments.copy()
    payments.loc[payments["payment_date"] >= since, "payment_date"] += delay
    return dataclasses.replace(frames, allocations=allocations, payments=payments)
