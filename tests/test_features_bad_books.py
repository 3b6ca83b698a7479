"""A Parquet book that cannot be read faithfully is refused the same way by both feature engines, with
the file and what is wrong: not Parquet, corrupt past its footer, a numeric column of text that is no
number. Text that is a number reads as the number; a dispute's free-form amount reads as missing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from arrisk.errors import ValidationError
from arrisk.ledger.generator import write_book
from features.pipeline import build_snapshot_from_parquet

AS_OF = "2025-03-31"
ENGINES = ["sql", "pandas"]


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("book")
    write_book(folder, n_customers=300, months=4, seed=5)
    return folder


@pytest.fixture
def copy(book: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(book, tmp_path / "copy"))


def _set_column(path: Path, column: str, values: pa.Array) -> None:
    table = pq.read_table(path)
    pq.write_table(table.set_column(table.schema.get_field_index(column), column, values), path)


def _as_text(path: Path, column: str, bad_rows: dict[int, str]) -> None:
    """``column`` rewritten as text: each value's own digits, except ``bad_rows``."""
    values = pq.read_table(path, columns=[column]).column(0).to_pylist()
    text = [bad_rows.get(k, None if v is None else repr(v)) for k, v in enumerate(values)]
    _set_column(path, column, pa.array(text, pa.string()))


@pytest.mark.parametrize("engine", ENGINES)
def test_text_that_is_no_number_is_refused_with_file_column_and_example(copy: Path, engine: str) -> None:
    invoices = copy / "invoices.parquet"
    _as_text(invoices, "amount", {4: "1.234,50", 9: "n/a"})
    n = pq.read_metadata(invoices).num_rows
    with pytest.raises(ValidationError) as caught:
        build_snapshot_from_parquet(copy, AS_OF, engine=engine)
    assert str(caught.value) == (
        f"{invoices}: column amount: 2 of {n:,} values are not numbers (the first, in data row 5: '1.234,50')"
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_a_limit_given_as_text_is_checked_too(copy: Path, engine: str) -> None:
    _as_text(copy / "customers.parquet", "credit_limit", {0: "unlimited"})
    with pytest.raises(ValidationError, match=r"customers.parquet: column credit_limit: 1 of 300 values"):
        build_snapshot_from_parquet(copy, AS_OF, engine=engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_dates_given_as_text_are_refused(copy: Path, engine: str) -> None:
    invoices = copy / "invoices.parquet"
    _as_text(invoices, "issue_date", {3: "31/02/2025"})
    with pytest.raises(ValidationError, match=rf"^{invoices}: column issue_date holds text; dates must be"):
        build_snapshot_from_parquet(copy, AS_OF, engine=engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_text_that_is_a_number_reads_as_the_number(book: Path, copy: Path, engine: str) -> None:
    _as_text(copy / "invoices.parquet", "amount", {})
    _as_text(copy / "allocations.parquet", "amount", {})
    expected = build_snapshot_from_parquet(book, AS_OF, engine=engine)
    got = build_snapshot_from_parquet(copy, AS_OF, engine=engine)
    pd.testing.assert_frame_equal(got.customers, expected.customers)
    pd.testing.assert_frame_equal(got.invoices, expected.invoices)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_dispute_amount_that_is_no_number_reads_as_missing(book: Path, copy: Path, engine: str) -> None:
    disputes = pq.read_table(book / "disputes.parquet")
    assert disputes.num_rows > 5
    _set_column(copy / "disputes.parquet", "amount", pa.array(["n/a"] * disputes.num_rows, pa.string()))
    missing = Path(shutil.copytree(book, copy.parent / "missing"))
    _set_column(missing / "disputes.parquet", "amount", pa.nulls(disputes.num_rows, pa.float64()))
    got = build_snapshot_from_parquet(copy, AS_OF, engine=engine)
    expected = build_snapshot_from_parquet(missing, AS_OF, engine=engine)
    pd.testing.assert_frame_equal(got.customers, expected.customers)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_file_that_is_not_parquet_is_named(copy: Path, engine: str) -> None:
    payments = copy / "payments.parquet"
    payments.write_bytes(payments.read_bytes()[:500])  # cut short: no footer
    with pytest.raises(ValidationError, match=rf"^{payments}: not a readable Parquet file \(.*magic bytes"):
        build_snapshot_from_parquet(copy, AS_OF, engine=engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_file_corrupt_past_its_footer_is_named(copy: Path, engine: str) -> None:
    allocations = copy / "allocations.parquet"
    meta = pq.read_metadata(allocations)
    data = bytearray(allocations.read_bytes())
    for group in range(meta.num_row_groups):  # scribble inside every column chunk, not the footer
        for column in range(meta.num_columns):
            chunk = meta.row_group(group).column(column)
            first, size = chunk.dictionary_page_offset or chunk.data_page_offset, chunk.total_compressed_size
            for k in range(first + size // 3, first + size // 2):
                data[k] ^= 0x5A
    allocations.write_bytes(bytes(data))
    with pytest.raises(ValidationError, match=rf"the book cannot be read: .*{allocations}"):
        build_snapshot_from_parquet(copy, AS_OF, engine=engine)


@pytest.fixture(scope="module")
def csv_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("csv")
    write_book(folder, n_customers=60, months=3, seed=5, fmt="csv")
    return folder


def _edit_csv(path: Path, row: int, column: str, value: str) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[row - 1, column] = value
    frame.to_csv(path, index=False)


@pytest.mark.parametrize(
    ("table", "column", "value", "what"),
    [("invoices", "issue_date", "2025-02-31", "dates"), ("allocations", "amount", "18o7.71", "numbers")],
)
def test_a_csv_book_with_a_value_that_cannot_be_typed_is_refused(
    csv_book: Path, tmp_path: Path, table: str, column: str, value: str, what: str
) -> None:
    folder = Path(shutil.copytree(csv_book, tmp_path / "csv"))
    path = folder / f"{table}.csv"
    n = len(pd.read_csv(path))
    _edit_csv(path, 3, column, value)
    with pytest.raises(ValidationError) as caught:
        build_snapshot_from_parquet(folder, AS_OF)  # no Parquet: the CSV reader and the pandas engine
    assert str(caught.value) == (
        f"{path}: column {column}: 1 of {n:,} values are not {what} (the first, in data row 3: {value!r})"
    )
