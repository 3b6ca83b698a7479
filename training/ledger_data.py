"""Ledger frames -> training table: feature snapshots at each as-of date joined to their labels."""

from __future__ import annotations

from datetime import date

import pandas as pd

from arrisk.errors import ValidationError
from arrisk.ledger.frames import LedgerFrames
from training.config import ExperimentConfig
from training.validation import TrainingTable


def snapshot_rows(
    frames: LedgerFrames,
    as_of: date,
    config: ExperimentConfig,
    *,
    feature_config=None,
    snapshots: dict | None = None,
) -> tuple[pd.DataFrame, str]:
    """Feature rows with a known label at one as-of date, and the feature-set version.

    ``snapshots`` caches feature snapshots by as-of date, so two models over one book build each once.
    """
    from features import labels
    from features.pipeline import build_snapshot

    key = (pd.Timestamp(as_of), str(config.feature_config))
    snap = snapshots.get(key) if snapshots is not None else None
    if snap is None:
        snap = build_snapshot(frames, as_of, config=feature_config)
        if snapshots is not None:
            snapshots[key] = snap
    end = labels.latest_event_date(frames)
    spec = config.label
    if spec.kind == "customer_default":
        lab = labels.customer_default_labels(frames, as_of, horizon_days=spec.horizon_days, data_end=end)
        rows = snap.customers.merge(lab[["customer_id", "default"]], on="customer_id", how="inner")
        rows = rows.rename(columns={"default": "label"})
    else:
        lab = labels.invoice_late_labels(frames, as_of, late_days=spec.late_days, data_end=end)
        rows = snap.invoices.merge(lab[["invoice_id", "late", "days_late"]], on="invoice_id", how="inner")
        rows = rows.rename(columns={"late": "label"})
        if spec.not_yet_due_only and "inv_days_past_due" in rows:
            rows = rows[rows["inv_days_past_due"] <= spec.late_days]
    rows = rows[rows["label"].notna()].assign(as_of=pd.Timestamp(as_of))
    return rows, snap.version


def build_training_table(
    frames: LedgerFrames, config: ExperimentConfig, *, progress=None, snapshots: dict | None = None
) -> TrainingTable:
    """Stack the labelled snapshots of every configured as-of date (train and validation)."""
    from features.config import load_config as load_feature_config
    from features.pipeline import customer_feature_names, invoice_feature_names

    feature_config = load_feature_config(config.feature_config) if config.feature_config else None
    parts, version = [], "unknown"
    for as_of in config.all_as_of:
        rows, version = snapshot_rows(
            frames, as_of, config, feature_config=feature_config, snapshots=snapshots
        )
        parts.append(rows)
        if progress is not None:
            progress()
    frame = pd.concat(parts, ignore_index=True)
    if frame.empty:
        raise ValidationError(f"experiment {config.name}: no labelled rows at as-of dates {config.all_as_of}")
    if config.label.kind == "customer_default":
        features = customer_feature_names(feature_config)
    else:
        features = invoice_feature_names(feature_config)
    frame["label"] = frame["label"].astype("float64")
    return TrainingTable(
        frame=frame,
        features=features,
        label="label",
        time_column="as_of",
        group_column="customer_id",
        feature_set_version=version,
    )


def as_of_plan(
    frames: LedgerFrames, *, horizon_days: int, n_valid: int = 2, warmup_months: int = 3
) -> tuple[list[date], list[date]]:
    """Month-end as-of dates over the book: the last ``n_valid`` whose label window fits the data are
    validation; training dates end ``horizon_days`` before the first of them (the embargo)."""
    from features.labels import latest_event_date

    start = frames.invoices["issue_date"].min() + pd.DateOffset(months=warmup_months)
    end = latest_event_date(frames) - pd.Timedelta(days=horizon_days)
    month_ends = [d.date() for d in pd.date_range(start, end, freq="ME")]
    if len(month_ends) < n_valid + 2:
        raise ValidationError(
            f"the book spans too few months ({len(month_ends)} usable month ends) for "
            f"{n_valid} validation dates and a {horizon_days}-day label embargo"
        )
    valid = month_ends[-n_valid:]
    cutoff = pd.Timestamp(valid[0]) - pd.Timedelta(days=horizon_days)
    train = [d for d in month_ends if pd.Timestamp(d) <= cutoff]
    return train, valid
