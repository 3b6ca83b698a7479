"""The book's calendar: every event is an integer day offset from the start, converted to dates at the end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa

NEVER = np.iinfo(np.int32).max // 2


@dataclass(frozen=True)
class Span:
    """The book runs from ``start`` (inclusive) to ``end`` = start + months (exclusive)."""

    start: date
    months: int

    @property
    def end(self) -> date:
        return (pd.Timestamp(self.start) + pd.DateOffset(months=self.months)).date()

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def month_bounds(self) -> np.ndarray:
        """Day offset of each month's first day, plus the end (months + 1 values)."""
        origin = pd.Timestamp(self.start)
        return np.array(
            [(origin + pd.DateOffset(months=k) - origin).days for k in range(self.months + 1)], dtype=np.int32
        )

    @property
    def start64(self) -> np.datetime64:
        return np.datetime64(self.start, "D")

    def calendar_month(self, days: np.ndarray) -> np.ndarray:
        """Month of year (0 = January) of each day offset."""
        return (
            (self.start64 + days.astype("timedelta64[D]")).astype("datetime64[M]").astype(np.int64) % 12
        ).astype(np.int8)

    def weekday(self, days: np.ndarray) -> np.ndarray:
        """Day of week (0 = Monday) of each day offset."""
        return ((self.start.weekday() + days) % 7).astype(np.int8)

    def timestamps(self, days: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
        """Day offsets as an Arrow timestamp[ns] column (null where ``valid`` is False)."""
        stamps = (self.start64 + days.astype("timedelta64[D]")).astype("datetime64[ns]")
        mask = None if valid is None else ~valid
        return pa.array(stamps, type=pa.timestamp("ns"), mask=mask)

    def next_month_day(self, days: np.ndarray, day_of_month: np.ndarray) -> np.ndarray:
        """First day offset >= ``days`` that falls on ``day_of_month`` (28 stands for month end)."""
        dates = self.start64 + days.astype("timedelta64[D]")
        month = dates.astype("datetime64[M]")
        candidate = _month_day(month, day_of_month)
        late = candidate < dates
        candidate[late] = _month_day(month[late] + 1, day_of_month[late])
        return (candidate - self.start64).astype(np.int64).astype(np.int32)


def _month_day(month: np.ndarray, day_of_month: np.ndarray) -> np.ndarray:
    month_end = (month + 1).astype("datetime64[D]") - 1
    chosen = month.astype("datetime64[D]") + (day_of_month.astype(np.int64) - 1).astype("timedelta64[D]")
    return np.where(day_of_month >= 28, month_end, chosen)
