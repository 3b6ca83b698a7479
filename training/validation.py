"""Out-of-time splits and the rolling-origin backtest over a training table."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from arrisk.errors import ValidationError


@dataclass
class TrainingTable:
    """One row per scored entity and as-of time: features, a 0/1 label, optional time and group."""

    frame: pd.DataFrame
    features: list[str]
    label: str = "label"
    time_column: str | None = "as_of"
    group_column: str | None = None
    feature_set_version: str = "custom"
    extras: dict[str, str] = field(default_factory=dict)

    def X(self, rows: pd.DataFrame) -> pd.DataFrame:
        return rows[self.features]

    def y(self, rows: pd.DataFrame) -> np.ndarray:
        return rows[self.label].to_numpy(dtype="float64")

    def groups(self, rows: pd.DataFrame) -> np.ndarray | None:
        return rows[self.group_column].to_numpy() if self.group_column else None


def _times(table: TrainingTable) -> pd.Series:
    return pd.to_datetime(table.frame[table.time_column])


def split_by_dates(table: TrainingTable, train: list, valid: list) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows whose time is one of ``train`` / ``valid`` (as-of dates of ledger snapshots)."""
    times = _times(table)
    train_rows = table.frame[times.isin(pd.to_datetime(train))]
    valid_rows = table.frame[times.isin(pd.to_datetime(valid))]
    return train_rows, valid_rows


def split_holdout(
    table: TrainingTable, *, valid_share: float = 0.2, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Latest ``valid_share`` of rows by time (all rows of the cut-off time go to validation); without a
    time column, a stratified random split."""
    frame = table.frame
    if table.time_column is None:
        train, valid = train_test_split(
            frame, test_size=valid_share, random_state=seed, stratify=frame[table.label]
        )
        return train, valid
    times = _times(table)
    cutoff = times.quantile(1 - valid_share, interpolation="higher")
    train, valid = frame[times < cutoff], frame[times >= cutoff]
    if train.empty or valid.empty:
        raise ValidationError(
            f"time column {table.time_column!r}: one value only ({cutoff}); cannot split by time"
        )
    return train, valid


def rolling_origins(
    table: TrainingTable, *, n_origins: int, embargo_days: int = 0, origins: list | None = None
) -> Iterator[tuple[pd.Timestamp, pd.DataFrame, pd.DataFrame]]:
    """Each fold trains on rows before the origin whose label window (time + embargo) ends by it, and
    validates on [origin, next origin)."""
    if table.time_column is None or n_origins == 0:
        return
    times = _times(table)
    if origins is None:
        uniq = np.sort(times.unique())
        if len(uniq) > 12:  # continuous time: cut the latest 40% of rows into equal spans
            origins = list(times.quantile(np.linspace(0.6, 1.0, n_origins + 1)[:-1]))
        else:
            origins = list(uniq[-n_origins:])
    cuts = [pd.Timestamp(o) for o in origins] + [times.max() + pd.Timedelta(days=1)]
    for start, end in zip(cuts[:-1], cuts[1:], strict=True):
        train = table.frame[(times < start) & (times + pd.Timedelta(days=embargo_days) <= start)]
        valid = table.frame[(times >= start) & (times < end)]
        if len(np.unique(table.y(train))) == 2 and len(np.unique(table.y(valid))) == 2:
            yield start, train, valid
