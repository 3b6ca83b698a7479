"""The Parquet paths (the default SQL engine; DuckDB id joins + ``clip_book`` for the pandas engine)
give ``build_snapshot``'s tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from arrisk.errors import ValidationError
from arrisk.ledger.frames import LedgerFrames, fill_allocation_dates
from features.customer import stable_order
from features.leakage import check_leak_free
from features.parquet_source import read_asof_book
from features.pipeline import build_snapshot, build_snapshot_from_parquet
from features.snapshot_io import Snapshot
from features.synthetic import generate_small_book


def write_parquet_book(frames: LedgerFrames, folder: Path) -> Path:
    """Every table, the optional dunning events and payment plans included."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    return folder


@pytest.fixture(scope="module")
def book() -> LedgerFrames:
    return generate_small_book(50, months=10, seed=3)


def assert_same_snapshot(got: Snapshot, expected: Snapshot) -> None:
    pd.testing.assert_frame_equal(got.customers, expected.customers)
    pd.testing.assert_frame_equal(got.invoices, expected.invoices)
    assert got.as_of == expected.as_of and got.version == expected.version


@pytest.mark.parametrize("day", ["2025-02-15", "2025-06-30", "2025-10-31"])
def test_parquet_path_equals_build_snapshot(book: LedgerFrames, tmp_path: Path, day: str) -> None:
    folder = write_parquet_book(book, tmp_path / "book")
    assert len(book.dunning_events) and len(book.payment_plans) and len(book.disputes)
    assert_same_snapshot(build_snapshot_from_parquet(folder, day, engine="pandas"), build_snapshot(book, day))


def test_parquet_path_handles_unknown_ids_and_missing_dates(book: LedgerFrames, tmp_path: Path) -> None:
    """Ids naming nothing, allocations without applied_at: as ``read_dir`` + ``build_snapshot``."""
    alloc = book.allocations.copy()
    alloc.loc[alloc.index[::7], "applied_at"] = pd.NaT  # filled from the payment's date
    alloc.loc[alloc.index[3], "invoice_id"] = "NO-SUCH-INVOICE"
    alloc.loc[alloc.index[5], "payment_id"] = "NO-SUCH-PAYMENT"
    invoices = book.invoices.copy()
    invoices.loc[invoices.index[2], "customer_id"] = "NO-SUCH-CUSTOMER"
    payments = book.payments.copy()
    payments.loc[payments.index[:4], "customer_id"] = None
    changed = LedgerFrames(
        **{**dict(book.items()), "allocations": alloc, "invoices": invoices, "payments": payments}
    )
    folder = write_parquet_book(changed, tmp_path / "book")
    filled = fill_allocation_dates(changed)  # what every reader does with a missing applied_at
    for day in ("2025-05-31", "2025-09-30"):
        got = build_snapshot_from_parquet(folder, day, engine="pandas")
        assert_same_snapshot(got, build_snapshot(filled, day))


def test_parquet_path_is_leak_free(book: LedgerFrames, tmp_path: Path) -> None:
    counter = iter(range(10_000))

    def via_parquet(frames: LedgerFrames, as_of: pd.Timestamp) -> Snapshot:
        folder = write_parquet_book(frames, tmp_path / str(next(counter)))
        return build_snapshot_from_parquet(folder, as_of, engine="pandas")

    assert check_leak_free(book, "2025-06-15", build=via_parquet, seed=5) == []


def test_ids_are_the_real_ids_of_the_kept_rows(book: LedgerFrames, tmp_path: Path) -> None:
    as_of = pd.Timestamp("2025-04-30")
    fast = read_asof_book(write_parquet_book(book, tmp_path / "book"), as_of)
    known = book.customers[~(book.customers["created_at"] > as_of)]["customer_id"]
    assert list(fast.customer_ids) == list(known)
    issued = book.invoices[book.invoices["issue_date"] <= as_of]["invoice_id"]
    assert list(fast.invoice_ids) == list(issued)


@pytest.mark.parametrize(
    ("table", "kind", "row"),
    [
        ("invoices", "invoice_id", "allocated"),
        ("customers", "customer_id", "first"),
        ("payments", "payment_id", "allocated"),
    ],
)
@pytest.mark.parametrize("engine", ["pandas", "sql"])
def test_duplicate_ids_are_refused(
    book: LedgerFrames, tmp_path: Path, table: str, kind: str, row: str, engine: str
) -> None:
    frame = getattr(book, table)
    pick = frame[kind].isin(book.allocations[kind]) if row == "allocated" else frame.index == 0
    doubled = pd.concat([frame, frame[np.asarray(pick)].iloc[:1]], ignore_index=True)
    folder = write_parquet_book(LedgerFrames(**{**dict(book.items()), table: doubled}), tmp_path / "b")
    with pytest.raises(ValidationError, match=f"{kind} must be unique"):
        build_snapshot_from_parquet(folder, "2025-06-30", engine=engine)


def test_stable_order_sorts_by_group_then_date_keeping_ties() -> None:
    group = np.array([2, 1, 2, 1, 1])
    when = np.array(["2025-03-01", "2025-02-01", "2025-01-01", "2025-02-01", "2025-01-05"], "datetime64[ns]")
    assert stable_order(group, when).tolist() == [4, 1, 3, 2, 0]


def test_csv_books_take_the_ordinary_reader(book: LedgerFrames, tmp_path: Path) -> None:
    from arrisk.ledger.frames import read_dir, write_dir

    write_dir(book, tmp_path / "csv", "csv")
    expected = build_snapshot(read_dir(tmp_path / "csv"), "2025-07-31")
    assert_same_snapshot(build_snapshot_from_parquet(tmp_path / "csv", "2025-07-31"), expected)


@pytest.mark.parametrize("with_time", [False, True], ids=["midnight", "time-of-day"])
def test_stable_order_matches_a_stable_two_column_sort(with_time: bool) -> None:
    rng = np.random.default_rng(1)
    group = rng.integers(0, 30, 500)
    when = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 60, 500), unit="D")
    if with_time:
        when = when + pd.to_timedelta(rng.integers(0, 3, 500), unit="h")
    frame = pd.DataFrame({"g": group, "d": when})
    expected = frame.sort_values(["g", "d"], kind="stable").index.to_numpy()
    assert stable_order(group, when.to_numpy()).tolist() == expected.tolist()


@pytest.mark.parametrize("with_time", [False, True], ids=["midnight", "time-of-day"])
def test_paid_by_sums_each_customers_allocations_up_to_the_day(book: LedgerFrames, with_time: bool) -> None:
    from features.asof import clip_book
    from features.behaviour import _paid_by

    frames = book
    if with_time:
        hours = pd.to_timedelta(np.arange(len(book.allocations)) % 5, unit="h")
        frames = LedgerFrames(
            **{
                **dict(book.items()),
                "allocations": book.allocations.assign(applied_at=book.allocations["applied_at"] + hours),
            }
        )
    clipped = clip_book(frames, "2025-09-30")
    alloc = clipped.allocations
    rng = np.random.default_rng(2)
    cust = rng.integers(0, len(clipped.customer_ids), 200)
    when = (pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(-5, 280, 200) * 6, unit="h")).to_numpy()
    (got,) = _paid_by(clipped, cust, when)
    brute = [
        alloc.loc[(alloc["cust"] == c) & (alloc["applied_at"] <= w), "amount"].sum()
        for c, w in zip(cust, when, strict=True)
    ]
    np.testing.assert_allclose(got, brute, rtol=1e-12, atol=1e-9)
    assert (got > 0).any() and (got == 0).any()
