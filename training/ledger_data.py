"""Ledger frames -> training table: feature snapshots at each as-of date joined to their labels."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from arrisk.errors import ValidationError
from arrisk.ledger.frames import LedgerFrames
from arrisk.timing import PhaseClock
from training.config import ExperimentConfig, SampleSpec
from training.validation import TrainingTable


def customer_order(customer_ids: pd.Series, seed: int = 0) -> np.ndarray:
    """Positions of ``customer_ids`` ordered by a seeded hash of the id: the same order for the same ids
    on every machine and run, whatever the input order; a prefix of it is a uniform random sample."""
    key = f"arrisk-{seed:09d}"[-16:]
    hashed = pd.util.hash_pandas_object(customer_ids.astype(str), index=False, hash_key=key).to_numpy()
    ids = customer_ids.astype(str).to_numpy()
    return np.lexsort((ids, hashed))  # ties (never seen in practice) broken by the id itself


def effective_sample(frames: LedgerFrames, spec: SampleSpec) -> SampleSpec:
    """``spec``, or no sample at all when the book has no more customers than the training sample."""
    if spec.customers is not None and len(frames.customers) <= spec.customers:
        return SampleSpec(seed=spec.seed)
    return spec


def sampled_customer_ids(frames: LedgerFrames, spec: SampleSpec) -> tuple[np.ndarray, np.ndarray]:
    """(training ids, validation ids) of ``spec``: consecutive, disjoint runs of the hash order (the
    validation run is what is left when the book is short of ``valid_customers``)."""
    ids = frames.customers["customer_id"].astype(str)
    spec = effective_sample(frames, spec)
    if spec.customers is None:
        return ids.to_numpy(), ids.to_numpy()
    order = customer_order(ids, spec.seed)
    train = ids.to_numpy()[order[: spec.customers]]
    if spec.valid_customers is None:
        return train, train
    return train, ids.to_numpy()[order[spec.customers : spec.customers + spec.valid_customers]]


def subset_frames(frames: LedgerFrames, customer_ids: np.ndarray | pd.Series) -> LedgerFrames:
    """The book of ``customer_ids`` alone (``features.dask_backend.split_by_customer``: every fact of
    those customers, FX rates whole)."""
    return subset_books(frames, customer_ids)[0]


def subset_books(frames: LedgerFrames, *customer_ids: np.ndarray | pd.Series) -> list[LedgerFrames]:
    """``subset_frames`` of each of several disjoint sets of customers, mapping the big tables once."""
    from features.dask_backend import split_by_customer

    ids = frames.customers["customer_id"].astype(str)
    partition = np.full(len(ids), -1, dtype="int64")
    for number, chosen in enumerate(customer_ids):
        keep = ids.isin(pd.Index(np.asarray(chosen, dtype=str))).to_numpy()
        if (partition[keep] >= 0).any():
            raise ValueError("subset_books: the sets of customers overlap")
        partition[keep] = number
    return split_by_customer(frames, partition, len(customer_ids))


def sampled_books(
    frames: LedgerFrames, spec: SampleSpec, *, cache: dict | None = None
) -> tuple[LedgerFrames, LedgerFrames]:
    """(training book, validation book) of ``spec``; the whole book twice when no sample is set.

    ``cache`` keeps them between the two models of one book (cutting a 1M-customer book takes seconds).
    """
    spec = effective_sample(frames, spec)
    if not spec.active:
        return frames, frames
    key = ("sampled-books", spec.customers, spec.valid_customers, spec.seed)
    if cache is not None and key in cache:
        return cache[key]  # type: ignore[no-any-return]
    train_ids, valid_ids = sampled_customer_ids(frames, spec)
    if spec.valid_customers is None:
        train_book = valid_book = subset_frames(frames, train_ids)
    else:  # both books in one pass over the big tables (the two runs of customers are disjoint)
        train_book, valid_book = subset_books(frames, train_ids, valid_ids)
    if cache is not None:
        cache[key] = (train_book, valid_book)
    return train_book, valid_book


def snapshot_rows(
    frames: LedgerFrames,
    as_of: date,
    config: ExperimentConfig,
    *,
    feature_config=None,
    snapshots: dict | None = None,
    data_end: pd.Timestamp | None = None,
    book_key: object = None,
    timings: dict[str, float] | None = None,
) -> tuple[pd.DataFrame, str]:
    """Feature rows with a known label at one as-of date, and the feature-set version.

    ``snapshots`` caches feature snapshots by as-of date (and ``book_key``, which names the book when
    it is a sample), so two models over one book build each once. ``data_end`` is where the labels'
    observation ends (default: the last event in ``frames``; pass the whole book's for a sample).
    """
    from features import labels
    from features.pipeline import build_snapshot

    clock = PhaseClock(timings)
    key = (pd.Timestamp(as_of), str(config.feature_config), book_key)
    snap = snapshots.get(key) if snapshots is not None else None
    if snap is None:
        snap = build_snapshot(frames, as_of, config=feature_config)
        if snapshots is not None:
            snapshots[key] = snap
    clock.lap("snapshots_s")  # features apart from labels and the join
    end = data_end if data_end is not None else labels.latest_event_date(frames)
    spec = config.label
    # one cut at the data's end serves every as-of date of this book (cached beside the snapshots)
    outcomes = snapshots.setdefault(("outcomes", book_key), {}) if snapshots is not None else None
    if spec.kind == "customer_default":
        lab = labels.customer_default_labels(
            frames,
            as_of,
            horizon_days=spec.horizon_days,
            data_end=end,
            customer_ids=pd.Index(snap.customers["customer_id"]),
            outcomes=outcomes,
        )
        rows = snap.customers.merge(lab[["customer_id", "default"]], on="customer_id", how="inner")
        rows = rows.rename(columns={"default": "label"})
    else:
        lab = labels.invoice_late_labels(
            frames,
            as_of,
            late_days=spec.late_days,
            data_end=end,
            open_ids=pd.Index(snap.invoices["invoice_id"]),
            outcomes=outcomes,
        )
        rows = snap.invoices.merge(lab[["invoice_id", "late", "days_late"]], on="invoice_id", how="inner")
        rows = rows.rename(columns={"late": "label"})
        if spec.not_yet_due_only and "inv_days_past_due" in rows:
            rows = rows[rows["inv_days_past_due"] <= spec.late_days]
    rows = rows[rows["label"].notna()].assign(as_of=pd.Timestamp(as_of))
    clock.lap("labels_s")
    return rows, snap.version


def build_training_table(
    frames: LedgerFrames,
    config: ExperimentConfig,
    *,
    progress=None,
    snapshots: dict | None = None,
    timings: dict[str, float] | None = None,
) -> TrainingTable:
    """Stack the labelled snapshots of every configured as-of date (train and validation).

    With ``config.sample`` set, training dates are built on the sampled customers' book and validation
    dates on the validation sample's (see ``sampled_books``); labels still end where the whole book does.
    """
    from features.config import load_config as load_feature_config
    from features.labels import latest_event_date
    from features.pipeline import customer_feature_names, invoice_feature_names

    feature_config = load_feature_config(config.feature_config) if config.feature_config else None
    sample = effective_sample(frames, config.sample)
    clock = PhaseClock(timings)
    data_end = latest_event_date(frames)
    train_book, valid_book = sampled_books(frames, sample, cache=snapshots)
    clock.lap("sample_s")
    valid_dates = set(config.valid_as_of)
    parts, version = [], "unknown"
    for as_of in config.all_as_of:
        is_valid = as_of in valid_dates and sample.valid_customers is not None
        book = valid_book if is_valid else train_book
        book_key = None
        if sample.active:
            book_key = (sample.customers, sample.valid_customers if is_valid else None, sample.seed)
        rows, version = snapshot_rows(
            book,
            as_of,
            config,
            feature_config=feature_config,
            snapshots=snapshots,
            data_end=data_end,
            book_key=book_key,
            timings=timings,
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
        extras=sample_params(frames, sample),
    )


def sample_params(frames: LedgerFrames, spec: SampleSpec) -> dict[str, str]:
    """What the run was trained on, for MLflow: the book's customers and the sample drawn from it."""
    n_book = len(frames.customers)
    spec = effective_sample(frames, spec)
    if not spec.active:
        return {"book_customers": str(n_book), "sample.customers": "all"}
    return {
        "book_customers": str(n_book),
        "sample.customers": str(spec.customers),
        "sample.valid_customers": "same" if spec.valid_customers is None else str(spec.valid_customers),
        "sample.seed": str(spec.seed),
        "sample.method": "first customers by seeded hash of customer_id",
    }


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
