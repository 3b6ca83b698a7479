"""An interchange folder read back (``read_dir``): the store-made tables travel with it, and the lean
read that features and training use (``BOOK_COLUMNS``) gives the same snapshots and labels."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from arrisk.errors import ValidationError
from arrisk.ledger.frames import EXTRA_SCHEMAS, LedgerFrames, coerce_types, read_dir, write_dir
from features.labels import customer_default_labels, invoice_late_labels
from features.pipeline import build_snapshot, build_snapshot_from_parquet
from features.source import BOOK_COLUMNS
from features.synthetic import generate_small_book
from training.config import load_config
from training.runner import load_frames

DAYS = ["2025-03-31", "2025-07-31"]


@pytest.fixture(scope="module")
def book() -> LedgerFrames:
    frames = generate_small_book(40, months=8, seed=5)
    # what a real export carries beside the facts: remittance text and payer details
    n = len(frames.payments)
    frames.payments = frames.payments.assign(
        reference=[f"INV {i:05d} THANK YOU" for i in range(n)], payer_name="Acme Trading Ltd"
    )
    return frames


def _same_snapshot(a: LedgerFrames, b: LedgerFrames, day: str) -> None:
    got, expected = build_snapshot(a, day), build_snapshot(b, day)
    pd.testing.assert_frame_equal(got.customers, expected.customers)
    pd.testing.assert_frame_equal(got.invoices, expected.invoices)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_dunning_plans_and_credit_limits_travel_with_the_folder(
    book: LedgerFrames, tmp_path: Path, fmt: str
) -> None:
    assert all(len(getattr(book, name)) for name in EXTRA_SCHEMAS)
    counts = write_dir(book, tmp_path, fmt)
    assert {name: counts[name] for name in EXTRA_SCHEMAS} == {n: len(getattr(book, n)) for n in EXTRA_SCHEMAS}
    back = read_dir(tmp_path)
    for name in EXTRA_SCHEMAS:
        pd.testing.assert_frame_equal(getattr(back, name), getattr(book, name), check_dtype=False)
    assert back.dunning_events["event_date"].dtype == "datetime64[ns]"
    for day in DAYS:
        _same_snapshot(back, book, day)
    snap = build_snapshot(back, DAYS[1]).customers
    assert snap["dunning_max_level"].max() > 0 and snap["n_payment_plans"].sum() > 0


def test_a_book_without_store_made_tables_writes_no_file_for_them(book: LedgerFrames, tmp_path: Path) -> None:
    bare = LedgerFrames(**{name: frame for name, frame in book.items() if name not in EXTRA_SCHEMAS})
    write_dir(bare, tmp_path)
    assert not any((tmp_path / f"{name}.parquet").exists() for name in EXTRA_SCHEMAS)
    assert all(len(getattr(read_dir(tmp_path), name)) == 0 for name in EXTRA_SCHEMAS)


def test_the_folder_gives_the_pandas_and_sql_engines_the_same_book(
    book: LedgerFrames, tmp_path: Path
) -> None:
    """A Parquet folder goes to the SQL engine, a CSV folder through ``read_dir``: same tables."""
    write_dir(book, tmp_path / "parquet")
    write_dir(book, tmp_path / "csv", "csv")
    by_sql = build_snapshot_from_parquet(tmp_path / "parquet", DAYS[1])
    by_csv = build_snapshot_from_parquet(tmp_path / "csv", DAYS[1])
    pd.testing.assert_frame_equal(by_csv.customers, by_sql.customers, check_exact=False, rtol=1e-9)
    pd.testing.assert_frame_equal(by_csv.invoices, by_sql.invoices, check_exact=False, rtol=1e-9)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_the_lean_read_leaves_out_text_and_keeps_every_feature_and_label(
    book: LedgerFrames, tmp_path: Path, fmt: str
) -> None:
    write_dir(book, tmp_path, fmt)
    full, lean = read_dir(tmp_path), read_dir(tmp_path, BOOK_COLUMNS)
    for name, frame in lean.items():
        assert set(frame.columns) <= set(BOOK_COLUMNS[name]) | {"applied_at"}, name
    assert {"reference", "payer_name"} <= set(full.payments.columns)
    assert "name" not in lean.customers and "invoice_number" not in lean.invoices
    for day in DAYS:
        _same_snapshot(lean, full, day)
        pd.testing.assert_frame_equal(invoice_late_labels(lean, day), invoice_late_labels(full, day))
        pd.testing.assert_frame_equal(customer_default_labels(lean, day), customer_default_labels(full, day))


def test_training_reads_a_source_folder_lean(book: LedgerFrames, tmp_path: Path) -> None:
    write_dir(book, tmp_path)
    config = load_config(Path(__file__).resolve().parents[1] / "experiments" / "default_risk.yaml")
    frames = load_frames(config, tmp_path)
    assert "reference" not in frames.payments and len(frames.dunning_events) == len(book.dunning_events)


def test_a_dunning_level_that_is_no_number_is_refused_with_the_file(
    book: LedgerFrames, tmp_path: Path
) -> None:
    write_dir(book, tmp_path, "csv")
    events = pd.read_csv(tmp_path / "dunning_events.csv", dtype=str)
    events.loc[3, "level"] = "high"
    events.to_csv(tmp_path / "dunning_events.csv", index=False)
    with pytest.raises(ValidationError, match=r"dunning_events\.csv.*level"):
        read_dir(tmp_path)


def test_coerce_types_copies_unless_handed_the_frame() -> None:
    raw = pd.DataFrame(
        {
            "payment_id": [1, 2, None],  # numbers as ids: text (object) with None for missing
            "payment_date": ["2025-01-02", "2025-01-03", "2025-01-04"],
            "amount": ["10.5", "3", "7"],
            "currency": ["EUR", float("nan"), "USD"],
        }
    )
    kept = raw.copy()
    typed = coerce_types(raw, "payments")
    pd.testing.assert_frame_equal(raw, kept)  # the caller's frame is left alone
    assert typed["payment_date"].dtype == "datetime64[ns]" and typed["amount"].tolist() == [10.5, 3.0, 7.0]
    assert typed["currency"].tolist() == ["EUR", None, "USD"] and typed["payment_id"].dtype == object
    assert typed["payment_id"].tolist()[:2] == [1.0, 2.0] and typed["payment_id"].tolist()[2] is None
    handed = coerce_types(raw, "payments", copy=False)
    assert handed is raw
    pd.testing.assert_frame_equal(handed, typed)
