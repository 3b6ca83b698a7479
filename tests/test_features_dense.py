"""The SQL engine's families aggregated in NumPy (``features.dense``) give ``build_snapshot``'s values:
across chunk boundaries, for payments that pay several customers, and for missing amounts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from arrisk.ledger.frames import LedgerFrames
from features import dense
from features.config import default_config
from features.pipeline import build_snapshot
from features.sql_engine import build_snapshot_sql
from features.synthetic import generate_small_book
from tests.test_features_parquet import write_parquet_book
from tests.test_features_sql import assert_same


@pytest.fixture(scope="module")
def book() -> LedgerFrames:
    return generate_small_book(40, months=8, seed=11)


def _with(book: LedgerFrames, **tables: pd.DataFrame) -> LedgerFrames:
    return LedgerFrames(**{**dict(book.items()), **tables})


def test_every_dense_feature_is_a_catalogued_customer_feature() -> None:
    from features.pipeline import customer_feature_names

    names = set(customer_feature_names(default_config()))
    assert set(dense.dense_feature_names(default_config())) <= names


@pytest.mark.parametrize("day", ["2024-06-30", "2025-01-01", "2025-01-03"])
def test_days_before_any_invoice_or_payment(book: LedgerFrames, tmp_path: Path, day: str) -> None:
    """No invoice, no allocation or no paid invoice yet: every family's empty values (0 or NaN)."""
    folder = write_parquet_book(book, tmp_path / "book")
    got, expected = build_snapshot_sql(folder, day), build_snapshot(book, day)
    assert len(got.customers) and got.customers["n_paid_invoices"].eq(0).all()
    assert_same(got, expected)


def test_rows_added_up_over_many_chunks(
    book: LedgerFrames, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks of 7 rows: every sum, count and extreme is carried from chunk to chunk."""
    monkeypatch.setattr(dense, "CHUNK_ROWS", 7)
    folder = write_parquet_book(book, tmp_path / "book")
    for day in ("2025-03-31", "2025-08-15"):
        got = build_snapshot_sql(folder, day)
        assert (
            got.customers["n_invoices"].sum() > 7 * 10
            and got.customers["share_multi_invoice_payments"].gt(0).any()
        )
        assert_same(got, build_snapshot(book, day))


def test_a_payment_paying_several_customers(
    book: LedgerFrames, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A payment counts once for each customer whose invoices it pays (grouped by payment and
    customer), as in the pandas engine."""
    alloc, invoices = book.allocations.copy(), book.invoices
    owner = alloc["invoice_id"].map(invoices.set_index("invoice_id")["customer_id"])
    first, other = alloc.index[0], alloc.index[owner.ne(owner.iloc[0])][0]
    alloc.loc[other, "payment_id"] = alloc.loc[first, "payment_id"]  # pays two customers' invoices
    alloc.loc[other, "applied_at"] = alloc.loc[first, "applied_at"]
    changed = _with(book, allocations=alloc)
    calls = []
    by_pair = dense._multi_by_pair
    monkeypatch.setattr(dense, "_multi_by_pair", lambda *a: calls.append(1) or by_pair(*a))
    folder = write_parquet_book(changed, tmp_path / "book")
    day = "2025-08-31"
    got = build_snapshot_sql(folder, day)
    assert calls, "the general grouping was not used"
    assert_same(got, build_snapshot(changed, day))


def test_missing_invoice_amounts_are_skipped_by_sums(book: LedgerFrames, tmp_path: Path) -> None:
    """A missing amount counts as an invoice but adds nothing to the sums (SQL's ``sum``, as the SQL
    engine read them before these families moved to NumPy); a customer whose amounts are all missing
    has no mean amount (NaN). Customers without a missing amount keep the pandas engine's values."""
    invoices = book.invoices.copy()
    ids = invoices["customer_id"].drop_duplicates()
    whole, some = invoices["customer_id"] == ids.iloc[0], invoices["customer_id"] == ids.iloc[1]
    invoices.loc[whole, "amount"] = np.nan
    invoices.loc[invoices.index[some][::2], "amount"] = np.nan
    changed = _with(book, invoices=invoices)
    day = "2025-06-30"  # within 365 days of the book's first invoice: every invoice is in the window
    got = build_snapshot_sql(write_parquet_book(changed, tmp_path / "book"), day).customers
    got = got.set_index("customer_id")
    assert got.loc[ids.iloc[0], "n_invoices"] > 0 and np.isnan(got.loc[ids.iloc[0], "invoice_amount_mean"])
    assert got.loc[ids.iloc[0], "invoiced_amount_365d"] == 0
    partly = got.loc[ids.iloc[1]]
    assert partly["n_invoices"] == ((pd.to_datetime(invoices["issue_date"]) <= day) & some).sum()
    assert partly["invoiced_amount_365d"] > 0
    assert partly["invoice_amount_mean"] * partly["n_invoices"] == pytest.approx(
        partly["invoiced_amount_365d"]
    )
    expected = build_snapshot(changed, day).customers.set_index("customer_id").drop(ids.iloc[:2])
    windows = default_config().activity_windows_days
    activity = ["n_invoices", "invoice_amount_mean", "tenure_days", "days_since_last_invoice"]
    activity += [f"{kind}_{w}d" for w in windows for kind in ("invoiced_amount", "n_invoices")]
    activity += [f"invoiced_growth_{w}d" for w in windows[:-1]]
    pd.testing.assert_frame_equal(got.drop(ids.iloc[:2])[activity], expected[activity], rtol=1e-9, atol=1e-9)
