"""The as-of feature pipeline: frames + date -> one customer table and one open-invoice table.

``build_snapshot`` cuts the ledger at the as-of date first (``features.asof.clip_book``), then runs
the pure feature functions on what is left, so no feature can see a later fact.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from arrisk.ledger.frames import LedgerFrames, read_dir
from features import behaviour, customer
from features.asof import AsOfBook, clip_book, to_timestamp
from features.catalogue import INVOICE_OWN, customer_catalogue, invoice_catalogue
from features.config import FeatureConfig, default_config
from features.invoice import invoice_features
from features.invoice_state import invoice_state
from features.memory import small_pages, take_rows
from features.snapshot_io import Snapshot, read_snapshot, write_snapshot

__all__ = [
    "Snapshot",
    "build_snapshot",
    "build_snapshot_from_parquet",
    "customer_feature_names",
    "feature_version",
    "invoice_feature_names",
    "read_snapshot",
    "write_snapshot",
]

# How a Parquet book's snapshot is computed (``build_snapshot_from_parquet``).
ENGINES = ("sql", "pandas")
# Bump when a feature's computation changes without its name or config changing.
FEATURE_CODE_REVISION = "1"


def customer_feature_names(config: FeatureConfig | None = None) -> list[str]:
    return list(customer_catalogue(config))


def invoice_feature_names(config: FeatureConfig | None = None) -> list[str]:
    """Model input of the invoice model: the invoice's own features, then its customer's."""
    return list(invoice_catalogue(config))


def feature_version(config: FeatureConfig | None = None) -> str:
    """Hash of the feature definitions (names, one-line definitions, config, code revision)."""
    config = config or default_config()
    payload = {
        "revision": FEATURE_CODE_REVISION,
        "config": config.model_dump(mode="json"),
        "catalogue": invoice_catalogue(config),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:12]


def customer_table(book: AsOfBook, state: pd.DataFrame, config: FeatureConfig) -> pd.DataFrame:
    """One row per customer known on the as-of date, ``customer_id`` then the features."""
    parts = [
        customer.lateness_features(book, state, config),
        customer.exposure_features(book, state, config),
        customer.activity_features(book, config),
        behaviour.payment_habit_features(book, config),
        behaviour.dispute_features(book, state),
        behaviour.promise_features(book, config),
        behaviour.dunning_plan_writeoff_features(book, state, config),
    ]
    by_name = {name: part[name] for part in parts for name in part.columns}
    names = customer_feature_names(config)
    features = _float_frame(len(book.customer_ids), [(name, by_name[name].to_numpy()) for name in names])
    features.insert(0, "customer_id", book.customer_ids.to_numpy())
    return features


def _float_frame(n_rows: int, columns: list[tuple[str, np.ndarray]]) -> pd.DataFrame:
    """A float64 frame filled column by column into one block (pandas' own layout), so never copied."""
    block = np.empty((len(columns), n_rows), dtype="float64")
    for j, (_, values) in enumerate(columns):
        block[j] = values
    return pd.DataFrame(block.T, columns=[name for name, _ in columns], copy=False)


def invoice_table(
    book: AsOfBook, state: pd.DataFrame, customers: pd.DataFrame, threads: int = 1
) -> pd.DataFrame:
    """One row per invoice open on the as-of date, with its own and its customer's features (those
    gathered on ``threads`` threads)."""
    own = invoice_features(book, state)
    cust = own["cust"].to_numpy()
    names = [*INVOICE_OWN, *customers.columns[1:]]
    block = np.empty((len(names), len(own)), dtype="float64")
    for j, name in enumerate(INVOICE_OWN):
        block[j] = own[name].to_numpy()
    sources = [customers[name].to_numpy() for name in customers.columns[1:]]
    take_rows(sources, cust, block[len(INVOICE_OWN) :], threads)  # customer codes: all valid
    out = pd.DataFrame(block.T, columns=names, copy=False)
    out.insert(0, "customer_id", book.customer_ids.to_numpy()[cust])
    out.insert(0, "invoice_id", np.asarray(book.invoice_ids.take(own["inv"].to_numpy()), dtype=object))
    return out


def build_snapshot(
    frames: LedgerFrames,
    as_of: date | pd.Timestamp | str,
    *,
    config: FeatureConfig | None = None,
    workers: int | None = 1,
) -> Snapshot:
    """Customer and open-invoice features from facts dated on or before ``as_of`` only."""
    return snapshot_of_book(clip_book(frames, to_timestamp(as_of)), config=config, workers=workers)


def build_snapshot_from_parquet(
    folder: Path | str,
    as_of: date | pd.Timestamp | str,
    *,
    config: FeatureConfig | None = None,
    workers: int | None = None,
    engine: str = "sql",
) -> Snapshot:
    """``build_snapshot`` of the book in ``folder``; the same tables from either engine.

    ``engine="sql"`` (the default) computes everything in DuckDB on ``workers`` threads (default: one
    per core, see ``features.sql_engine``); ``engine="pandas"`` reads the book lean (Parquet via
    DuckDB id joins) and runs the pandas feature functions on ``workers`` processes. A CSV book
    always takes the ordinary reader and the pandas functions.
    """
    folder = Path(folder)
    check_engine(engine)
    if not (folder / "invoices.parquet").exists():
        from features.source import BOOK_COLUMNS

        return build_snapshot(
            read_dir(folder, BOOK_COLUMNS), as_of, config=config, workers=1 if workers is None else workers
        )
    if engine == "sql":
        from features.sql_engine import build_snapshot_sql

        return build_snapshot_sql(folder, as_of, config=config, threads=workers)
    from features.parquet_source import read_asof_book

    return snapshot_of_book(read_asof_book(folder, as_of), config=config, workers=workers)


def check_engine(engine: str) -> None:
    if engine not in ENGINES:
        from arrisk.errors import ValidationError

        raise ValidationError(f"unknown feature engine {engine!r}; choose one of: {', '.join(ENGINES)}")


def snapshot_of_book(
    book: AsOfBook, *, config: FeatureConfig | None = None, workers: int | None = 1
) -> Snapshot:
    """The features of an already clipped book, on ``workers`` processes (None: one per core for a
    large book; see ``features.parallel``); the same tables whatever the number."""
    from features.parallel import build_in_parallel, cores, default_workers

    config = config or default_config()
    workers = default_workers(len(book.customer_ids)) if workers is None else workers
    with small_pages():
        if workers > 1:
            customers, invoices = build_in_parallel(book, config, workers)
        else:
            customers, invoices, _ = features_of_book(book, config, threads=cores())
    return Snapshot(as_of=book.as_of, customers=customers, invoices=invoices, version=feature_version(config))


def features_of_book(
    book: AsOfBook, config: FeatureConfig, threads: int = 1
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Customer table, open-invoice table, and the invoice code of each open-invoice row (a process
    of its own may lay out the invoice table on ``threads`` threads)."""
    state = invoice_state(book, config)
    customers = customer_table(book, state, config)
    invoices = invoice_table(book, state, customers, threads)
    return customers, invoices, np.flatnonzero(state["is_open"].to_numpy())


def __getattr__(name: str) -> Any:
    # Module constants built on first use, so importing reads no YAML.
    if name == "CUSTOMER_FEATURES":
        return customer_feature_names()
    if name == "INVOICE_FEATURES":
        return invoice_feature_names()
    raise AttributeError(name)
