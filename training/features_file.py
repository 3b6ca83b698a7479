"""Bring-your-own features: any CSV/Parquet table with a 0/1 label becomes a training table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from arrisk.errors import NotFoundError, ValidationError
from training.validation import TrainingTable

ID_HINTS = ("customer_id", "invoice_id", "id")


def read_feature_table(path: Path, *, label: str, time_column: str | None = None) -> TrainingTable:
    """Numeric and boolean columns are features; the label, time and id columns are not."""
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"feature table {path} does not exist")
    frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    return feature_table(frame, label=label, time_column=time_column, source=str(path))


def feature_table(
    frame: pd.DataFrame, *, label: str, time_column: str | None = None, source: str = "frame"
) -> TrainingTable:
    for col in [label] + ([time_column] if time_column else []):
        if col not in frame:
            raise ValidationError(f"{source}: no column {col!r} (columns: {list(frame.columns)[:20]})")
    y = pd.to_numeric(frame[label], errors="coerce")
    if not y.dropna().isin([0, 1]).all():
        raise ValidationError(
            f"{source}: label {label!r} must be 0/1; found {sorted(y.dropna().unique())[:5]}"
        )
    frame = frame[y.notna()].assign(**{label: y[y.notna()].astype("float64")})
    if time_column:
        frame = frame.assign(**{time_column: pd.to_datetime(frame[time_column])})
    group = next((c for c in ID_HINTS if c in frame), None)
    skip = {label, time_column, group}
    features = [
        c
        for c in frame.columns
        if c not in skip and (pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]))
    ]
    if not features:
        raise ValidationError(f"{source}: no numeric feature columns besides {label!r}")
    frame = frame.astype({c: "float64" for c in features if frame[c].dtype != np.float64})
    return TrainingTable(
        frame.reset_index(drop=True),
        features,
        label=label,
        time_column=time_column,
        group_column=group,
        feature_set_version=f"file:{Path(source).name}",
        extras={"features_file": source},
    )
