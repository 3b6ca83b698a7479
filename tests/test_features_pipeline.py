"""Snapshot tables, catalogue, versioning, Parquet round trip and the ``arrisk features`` commands."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from arrisk.errors import NotFoundError, ValidationError
from arrisk.ledger.frames import LedgerFrames, write_dir
from arrisk.ledger.generator import generate_book
from features import cli as features_cli
from features.catalogue import CATALOGUE
from features.config import FeatureConfig, load_config
from features.pipeline import (
    CUSTOMER_FEATURES,
    INVOICE_FEATURES,
    build_snapshot,
    feature_version,
    read_snapshot,
    write_snapshot,
)


@pytest.fixture(scope="module")
def book() -> LedgerFrames:
    return generate_book(n_customers=120, months=12, seed=4)


def test_tables_have_the_catalogued_numeric_columns(book: LedgerFrames) -> None:
    snap = build_snapshot(book, "2025-08-31")
    assert list(snap.customers.columns) == ["customer_id", *CUSTOMER_FEATURES]
    assert list(snap.invoices.columns) == ["invoice_id", "customer_id", *INVOICE_FEATURES]
    assert set(INVOICE_FEATURES) <= set(CATALOGUE) and all(CATALOGUE[name] for name in CATALOGUE)
    for frame, cols in ((snap.customers, CUSTOMER_FEATURES), (snap.invoices, INVOICE_FEATURES)):
        assert (frame[cols].dtypes == "float64").all()
        assert not np.isinf(frame[cols].to_numpy()).any()
    assert snap.customers["customer_id"].is_unique and snap.invoices["invoice_id"].is_unique


def test_data_invariants(book: LedgerFrames) -> None:
    c = build_snapshot(book, "2025-10-15").customers
    buckets = [col for col in CUSTOMER_FEATURES if col.startswith("aging_")]
    assert np.allclose(c[buckets].sum(axis=1), c["open_amount"])
    assert (c["overdue_amount"] <= c["open_amount"] + 1e-6).all()
    shares = c[[col for col in CUSTOMER_FEATURES if col.startswith("share_")]]
    assert ((shares >= 0) & (shares <= 1) | shares.isna()).all().all()
    late = c[[f"share_late_over_{t}d" for t in (0, 15, 30, 60)]].dropna()
    assert (late.diff(axis=1).iloc[:, 1:] <= 1e-12).all().all()  # later thresholds, smaller shares
    assert (c["n_open_invoices"] >= c["n_overdue_invoices"]).all()


def test_version_follows_the_config() -> None:
    assert feature_version() == feature_version(load_config())
    assert feature_version(FeatureConfig(last_n_invoices=3)) != feature_version()
    with pytest.raises(ValidationError, match="aging_bucket_edges_days"):
        load_config_text("aging_bucket_edges_days: [60, 30]\n")


def load_config_text(text: str) -> FeatureConfig:
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as fh:
        fh.write(text)
    return load_config(Path(fh.name))


def test_custom_config_renames_windowed_features(book: LedgerFrames) -> None:
    cfg = FeatureConfig(activity_windows_days=(7, 28), last_n_invoices=3)
    snap = build_snapshot(book, "2025-08-31", config=cfg)
    assert {"invoiced_amount_7d", "invoiced_growth_7d", "days_late_last3_mean"} <= set(snap.customers.columns)
    assert snap.version == feature_version(cfg)


def test_parquet_round_trip_keeps_version(book: LedgerFrames, tmp_path: Path) -> None:
    snap = build_snapshot(book, "2025-08-31")
    paths = write_snapshot(snap, tmp_path)
    assert paths["customers"].name == "customers_2025-08-31.parquet"
    assert pq.read_schema(paths["invoices"]).metadata[b"arrisk.feature_version"] == snap.version.encode()
    manifest = json.loads(paths["manifest"].read_text())
    assert manifest["version"] == snap.version and manifest["snapshots"]["2025-08-31"][
        "customer_rows"
    ] == len(snap.customers)
    back = read_snapshot(tmp_path, "2025-08-31")
    assert back.version == snap.version and back.as_of == snap.as_of
    pd.testing.assert_frame_equal(back.customers, snap.customers)
    pd.testing.assert_frame_equal(back.invoices, snap.invoices)
    with pytest.raises(NotFoundError, match="2025-09-01"):
        read_snapshot(tmp_path, "2025-09-01")


def test_default_folder_is_features_dir_by_version(book: LedgerFrames, settings) -> None:
    paths = write_snapshot(build_snapshot(book, "2025-05-31"))
    assert paths["customers"].parent == settings.features_dir / feature_version()


def _app() -> typer.Typer:
    app = typer.Typer()
    features_cli.register(app)
    app.command("noop", hidden=True)(lambda: None)  # keeps `features` a sub-command
    return app


def test_cli_build_from_folder(book: LedgerFrames, tmp_path: Path, settings) -> None:
    write_dir(book, tmp_path / "book")
    result = CliRunner().invoke(
        _app(),
        [
            "features",
            "build",
            "--as-of",
            "2025-06-30",
            "--as-of",
            "2025-09-30",
            "--source",
            str(tmp_path / "book"),
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 0, result.output
    for day in ("2025-06-30", "2025-09-30"):
        got = read_snapshot(tmp_path / "out", day)
        pd.testing.assert_frame_equal(got.customers, build_snapshot(book, day).customers, check_exact=False)


def test_cli_build_rejects_bad_date(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        _app(), ["features", "build", "--as-of", "31/02/2025", "--source", str(tmp_path)]
    )
    assert isinstance(result.exception, ValidationError) and "31/02/2025" in str(result.exception)


def test_cli_list_prints_catalogue() -> None:
    result = CliRunner().invoke(_app(), ["features", "list"], terminal_width=200)
    assert result.exit_code == 0
    assert "days_late_mean" in result.output and "inv_days_past_due" in result.output
    assert feature_version() in result.output


def test_cli_build_from_the_store(book: LedgerFrames, tmp_path: Path, settings) -> None:
    from arrisk.ledger.importer import import_frames
    from arrisk.store.db import get_engine

    import_frames(get_engine(settings), book, source="test")
    result = CliRunner().invoke(_app(), ["features", "build", "--as-of", "2025-07-31", "--from-db"])
    assert result.exit_code == 0, result.output
    got = read_snapshot(settings.features_dir / feature_version(), "2025-07-31")
    expected = build_snapshot(book, "2025-07-31")
    key = ["customer_id"]
    pd.testing.assert_frame_equal(
        got.customers.sort_values(key).reset_index(drop=True),
        expected.customers.sort_values(key).reset_index(drop=True),
        check_exact=False,
        rtol=1e-9,
    )


def test_encoded_ids_give_the_same_snapshot(book: LedgerFrames) -> None:
    """Ids as categoricals sharing their table's categories (the fast path of ``clip_book``)."""
    from features.source import encode_ids

    encoded = encode_ids(book)
    assert isinstance(encoded.invoices["customer_id"].dtype, pd.CategoricalDtype)
    for day in ("2025-03-31", "2025-11-30"):
        got, expected = build_snapshot(encoded, day), build_snapshot(book, day)
        pd.testing.assert_frame_equal(got.customers, expected.customers)
        pd.testing.assert_frame_equal(got.invoices, expected.invoices)
