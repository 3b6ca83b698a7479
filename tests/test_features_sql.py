"""The SQL engine (``features.sql_engine``: the whole snapshot in DuckDB) gives ``build_snapshot``'s tables.

Float features are compared to 1e-9 (sums run in another order); ids, row order, counts and
which values are NaN must be the same.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from arrisk.errors import ValidationError
from arrisk.ledger.frames import LedgerFrames, fill_allocation_dates
from features.config import FeatureConfig
from features.leakage import check_leak_free
from features.pipeline import build_snapshot, build_snapshot_from_parquet
from features.snapshot_io import Snapshot
from features.sql_engine import build_snapshot_sql
from features.synthetic import generate_small_book
from tests.test_features_parquet import write_parquet_book


@pytest.fixture(scope="module")
def book() -> LedgerFrames:
    return generate_small_book(60, months=10, seed=3)


def _with(book: LedgerFrames, **tables: pd.DataFrame) -> LedgerFrames:
    return LedgerFrames(**{**dict(book.items()), **tables})


def assert_same(got: Snapshot, expected: Snapshot) -> None:
    assert got.as_of == expected.as_of and got.version == expected.version
    for name in ("customers", "invoices"):
        a, b = getattr(got, name), getattr(expected, name)
        assert list(a.columns) == list(b.columns)
        assert a.dtypes.equals(b.dtypes), name
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("day", ["2025-01-20", "2025-04-30", "2025-07-15", "2025-10-31"])
def test_sql_engine_equals_build_snapshot(book: LedgerFrames, tmp_path: Path, day: str) -> None:
    folder = write_parquet_book(book, tmp_path / "book")
    assert len(book.dunning_events) and len(book.payment_plans) and len(book.credit_limits)
    got = build_snapshot_sql(folder, day)
    expected = build_snapshot(book, day)
    assert len(expected.invoices) and (expected.customers["n_promises"].sum() > 0 or day < "2025-04-01")
    assert_same(got, expected)


def test_the_default_parquet_engine_is_sql_and_pandas_stays_available(
    book: LedgerFrames, tmp_path: Path
) -> None:
    folder = write_parquet_book(book, tmp_path / "book")
    by_sql = build_snapshot_from_parquet(folder, "2025-08-31")
    by_pandas = build_snapshot_from_parquet(folder, "2025-08-31", engine="pandas")
    assert_same(by_sql, by_pandas)
    with pytest.raises(ValidationError, match="unknown feature engine"):
        build_snapshot_from_parquet(folder, "2025-08-31", engine="polars")


def test_other_windows_and_thresholds(book: LedgerFrames, tmp_path: Path) -> None:
    """Every configured number reaches the SQL: last N longer than the trend window, other buckets."""
    config = FeatureConfig(
        late_thresholds_days=(5, 45),
        last_n_invoices=12,
        trend_n_invoices=3,
        activity_windows_days=(14, 60, 180, 400),
        aging_bucket_edges_days=(10, 45),
        due_soon_days=7,
        dunning_recent_days=20,
        promise_grace_days=0,
        partial_payment_share=0.5,
        paid_tolerance_abs=1.0,
        paid_tolerance_rel=0.01,
    )
    folder = write_parquet_book(book, tmp_path / "book")
    got = build_snapshot_sql(folder, "2025-09-30", config=config)
    assert "days_late_last12_mean" in got.customers and "aging_11_45_amount" in got.customers
    assert_same(got, build_snapshot(book, "2025-09-30", config=config))


def test_unknown_ids_missing_dates_and_reversals(book: LedgerFrames, tmp_path: Path) -> None:
    """Ids naming nothing, allocations without applied_at, reversals before and after the day."""
    alloc = book.allocations.copy()
    alloc.loc[alloc.index[::7], "applied_at"] = pd.NaT  # filled from the payment's date
    alloc.loc[alloc.index[3], "invoice_id"] = "NO-SUCH-INVOICE"
    alloc.loc[alloc.index[5], "payment_id"] = "NO-SUCH-PAYMENT"
    alloc.loc[alloc.index[10:40:3], "reversed_at"] = pd.Timestamp("2025-06-01")
    invoices = book.invoices.copy()
    invoices.loc[invoices.index[2], "customer_id"] = "NO-SUCH-CUSTOMER"
    payments = book.payments.copy()
    payments.loc[payments.index[:4], "customer_id"] = None
    notes = book.credit_notes.copy()
    notes.loc[notes.index[:2], "invoice_id"] = None  # credit notes on the account, not an invoice
    promises = book.promises.copy()
    early = promises.index[::5]  # promised for a day before the promise was made
    promises.loc[early, "promised_date"] = promises.loc[early, "created_at"] - pd.Timedelta(days=20)
    promises.loc[promises.index[1], "promised_date"] = pd.NaT
    changed = _with(
        book, allocations=alloc, invoices=invoices, payments=payments, credit_notes=notes, promises=promises
    )
    folder = write_parquet_book(changed, tmp_path / "book")
    filled = fill_allocation_dates(changed)
    for day in ("2025-05-31", "2025-09-30"):
        assert_same(build_snapshot_sql(folder, day), build_snapshot(filled, day))


def test_dates_with_a_time_of_day(book: LedgerFrames, tmp_path: Path) -> None:
    """Ties and the last-N order by settlement moment, not only by day."""
    hours = pd.to_timedelta(np.arange(len(book.allocations)) % 5, unit="h")
    changed = _with(
        book, allocations=book.allocations.assign(applied_at=book.allocations["applied_at"] + hours)
    )
    folder = write_parquet_book(changed, tmp_path / "book")
    assert_same(build_snapshot_sql(folder, "2025-08-31"), build_snapshot(changed, "2025-08-31"))


def test_results_arriving_in_any_order_are_laid_out_in_key_order(
    book: LedgerFrames, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The queries leave row order to NumPy (``_order``): shuffled results give the same tables."""
    import features.sql_engine as engine

    customer_sql, invoice_sql = engine.customer_sql, engine.invoice_sql
    monkeypatch.setattr(
        engine, "customer_sql", lambda *a: f"SELECT * FROM ({customer_sql(*a)}) ORDER BY hash(crow)"
    )
    monkeypatch.setattr(
        engine, "invoice_sql", lambda *a: f"SELECT * FROM ({invoice_sql(*a)}) ORDER BY hash(irow)"
    )
    folder = write_parquet_book(book, tmp_path / "book")
    got = build_snapshot_sql(folder, "2025-08-31")
    assert_same(got, build_snapshot(book, "2025-08-31"))


def test_a_book_too_long_for_4_byte_row_keys_gets_8_byte_keys(
    book: LedgerFrames, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import features.sql_engine as engine

    folder = write_parquet_book(book, tmp_path / "book")
    assert "CAST(file_row_number AS INTEGER)" in engine._source(folder, "invoices")
    monkeypatch.setattr(engine, "INTEGER_KEYS_BELOW", 100)  # invoices and allocations: over 100 rows
    assert "CAST(file_row_number AS BIGINT)" in engine._source(folder, "invoices")
    assert "CAST(file_row_number AS INTEGER)" in engine._source(folder, "customers")
    assert_same(build_snapshot_sql(folder, "2025-08-31"), build_snapshot(book, "2025-08-31"))


def test_columns_of_several_chunks_are_scattered_whole() -> None:
    import pyarrow as pa

    from features.sql_engine import _customer_frame

    crow = [7, 2, 9, 0, 5]
    arrow = pa.Table.from_batches(
        [
            pa.record_batch({"crow": crow[:2], "customer_id": ["c7", "c2"], "x": [7.0, 2.0]}),
            pa.record_batch({"crow": crow[2:], "customer_id": ["c9", "c0", "c5"], "x": [9.0, 0.0, 5.0]}),
        ]
    )
    assert arrow.column("x").num_chunks == 2
    keys, block, frame = _customer_frame(arrow, ["x"])
    assert keys.tolist() == [0, 2, 5, 7, 9]
    assert block[0].tolist() == [0.0, 2.0, 5.0, 7.0, 9.0]
    assert frame["customer_id"].tolist() == ["c0", "c2", "c5", "c7", "c9"]


def test_optional_tables_and_columns_may_be_missing(book: LedgerFrames, tmp_path: Path) -> None:
    folder = write_parquet_book(book, tmp_path / "book")
    gone = ("dunning_events", "payment_plans", "credit_limits", "credit_notes", "fx_rates")
    for name in gone:
        (folder / f"{name}.parquet").unlink()
    assert len(book.fx_rates) and len(book.credit_notes)
    book.disputes.drop(columns=["amount"]).to_parquet(folder / "disputes.parquet", index=False)
    stripped = _with(
        book,
        **{name: getattr(book, name).iloc[:0] for name in gone},
        disputes=book.disputes.drop(columns=["amount"]),
    )
    assert_same(build_snapshot_sql(folder, "2025-07-31"), build_snapshot(stripped, "2025-07-31"))


def test_sql_engine_is_leak_free(book: LedgerFrames, tmp_path: Path) -> None:
    counter = iter(range(10_000))

    def via_sql(frames: LedgerFrames, as_of: pd.Timestamp) -> Snapshot:
        return build_snapshot_sql(write_parquet_book(frames, tmp_path / str(next(counter))), as_of)

    for as_of, seed in (("2025-03-10", 1), ("2025-06-15", 5), ("2025-09-01", 9)):
        assert check_leak_free(book, as_of, build=via_sql, seed=seed) == []


@pytest.mark.slow
@pytest.mark.parametrize(("name", "day"), [("ibm-ar", "2013-06-30"), ("uci-credit", "2005-08-15")])
def test_real_data_sets_give_the_same_tables(data_dir: Path, tmp_path: Path, name: str, day: str) -> None:
    datasets = pytest.importorskip("arrisk.datasets")
    frames = datasets.load_dataset(name, data_dir).frames
    folder = write_parquet_book(frames, tmp_path / name)
    expected = build_snapshot(frames, day)
    assert len(expected.customers) and len(expected.invoices)
    assert_same(build_snapshot_sql(folder, day), expected)


def test_cli_builds_a_parquet_book_with_either_engine(book: LedgerFrames, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from features.snapshot_io import read_snapshot
    from tests.test_features_pipeline import _app

    folder = write_parquet_book(book, tmp_path / "book")
    got = {}
    for engine in ("sql", "pandas"):
        args = ["features", "build", "--as-of", "2025-07-31", "--source", str(folder)]
        args += ["--out", str(tmp_path / engine), "--engine", engine]
        result = CliRunner().invoke(_app(), args)
        assert result.exit_code == 0, result.output
        got[engine] = read_snapshot(tmp_path / engine, "2025-07-31")
    assert_same(got["sql"], got["pandas"])
    bad = CliRunner().invoke(_app(), ["features", "build", "--as-of", "2025-07-31", "--engine", "spark"])
    assert isinstance(bad.exception, ValidationError) and "spark" in str(bad.exception)


def test_a_missing_table_or_column_is_a_clear_error(book: LedgerFrames, tmp_path: Path) -> None:
    folder = write_parquet_book(book, tmp_path / "book")
    book.invoices.drop(columns=["due_date"]).to_parquet(folder / "invoices.parquet", index=False)
    with pytest.raises(ValidationError, match="invoices.parquet: missing required column.*due_date"):
        build_snapshot_sql(folder, "2025-06-30")
    book.invoices.to_parquet(folder / "invoices.parquet", index=False)
    (folder / "payments.parquet").unlink()
    with pytest.raises(ValidationError, match="payments.parquet: missing"):
        build_snapshot_sql(folder, "2025-06-30")
