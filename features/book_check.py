"""What a Parquet book must be before either feature engine reads it, checked before any work.

A file that is not Parquet, a numeric column given as text that is no number, or a date column given
as text is refused with the file, the column and an example, the same way by both engines. Before
this the SQL engine read such amounts as missing (a snapshot of nonsense, no word said) and the
pandas engine stopped with a traceback. A free-form optional amount (a dispute's) that is no number
reads as missing, in both engines.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from arrisk.errors import ValidationError

if TYPE_CHECKING:
    import pyarrow.parquet as pq

# table -> {column: SQL type} the engines read (the SQL engine casts to these types; absent optional
# columns read as NULL). DOUBLE columns must hold numbers, TIMESTAMP columns dates.
COLUMNS: dict[str, dict[str, str]] = {
    "customers": {
        "customer_id": "VARCHAR",
        "currency": "VARCHAR",
        "payment_terms_days": "DOUBLE",
        "credit_limit": "DOUBLE",
        "created_at": "TIMESTAMP",
    },
    "invoices": {
        "invoice_id": "VARCHAR",
        "customer_id": "VARCHAR",
        "issue_date": "TIMESTAMP",
        "due_date": "TIMESTAMP",
        "amount": "DOUBLE",
        "currency": "VARCHAR",
    },
    "payments": {"payment_id": "VARCHAR", "customer_id": "VARCHAR", "payment_date": "TIMESTAMP"},
    "allocations": {
        "payment_id": "VARCHAR",
        "invoice_id": "VARCHAR",
        "amount": "DOUBLE",
        "applied_at": "TIMESTAMP",
        "reversed_at": "TIMESTAMP",
    },
    "credit_notes": {
        "customer_id": "VARCHAR",
        "invoice_id": "VARCHAR",
        "issue_date": "TIMESTAMP",
        "amount": "DOUBLE",
        "currency": "VARCHAR",
    },
    "disputes": {
        "invoice_id": "VARCHAR",
        "opened_at": "TIMESTAMP",
        "resolved_at": "TIMESTAMP",
        "amount": "DOUBLE",
    },
    "promises": {
        "customer_id": "VARCHAR",
        "created_at": "TIMESTAMP",
        "promised_date": "TIMESTAMP",
        "amount": "DOUBLE",
        "currency": "VARCHAR",
    },
    "write_offs": {"invoice_id": "VARCHAR", "date": "TIMESTAMP", "amount": "DOUBLE", "status": "VARCHAR"},
    "dunning_events": {
        "invoice_id": "VARCHAR",
        "level": "DOUBLE",
        "event_date": "TIMESTAMP",
        "status": "VARCHAR",
    },
    "payment_plans": {"customer_id": "VARCHAR", "created_at": "TIMESTAMP", "broken_at": "TIMESTAMP"},
    "credit_limits": {
        "customer_id": "VARCHAR",
        "effective_date": "TIMESTAMP",
        "credit_limit": "DOUBLE",
        "currency": "VARCHAR",
    },
    "fx_rates": {"currency": "VARCHAR", "rate_date": "TIMESTAMP", "rate_to_base": "DOUBLE"},
}
# (table, column) read as missing where a value is no number
LENIENT = {("disputes", "amount")}


def _is_text(arrow_type) -> bool:  # type: ignore[no-untyped-def]
    """Text, or a dictionary of text (as pandas writes a categorical)."""
    import pyarrow as pa

    from features.source import pa_is_string

    return bool(pa_is_string(arrow_type.value_type if pa.types.is_dictionary(arrow_type) else arrow_type))


@contextlib.contextmanager
def readable(path: Path) -> Iterator[None]:
    """Errors of reading ``path`` (not Parquet, truncated, corrupt pages) as a ``ValidationError``
    naming it."""
    import pyarrow as pa

    try:
        yield
    except (OSError, pa.ArrowException) as err:
        raise ValidationError(f"{path}: not a readable Parquet file ({err})") from None


def check_parquet_book(
    folder: Path, columns: Mapping[str, Mapping[str, str]] = COLUMNS
) -> dict[str, pq.FileMetaData]:
    """Refuse the book in ``folder`` if one of the tables of ``columns`` (those present) is not
    readable Parquet, holds text that is no number in a numeric column, or text in a date column.
    Returns each present table's footer (read once here, for the readers to reuse)."""
    import pyarrow.parquet as pq

    footers = {}
    for name, wanted in columns.items():
        path = folder / f"{name}.parquet"
        if not path.exists():
            continue
        with readable(path):
            footers[name] = pq.read_metadata(path)
        schema = footers[name].schema.to_arrow_schema()
        for column, sql_type in wanted.items():
            if column not in schema.names or not _is_text(schema.field(column).type):
                continue
            if sql_type == "TIMESTAMP":
                raise ValidationError(
                    f"{path}: column {column} holds text; dates must be stored as Parquet dates or "
                    "timestamps (convert them first, e.g. with pandas.to_datetime)"
                )
            if sql_type == "DOUBLE" and (name, column) not in LENIENT:
                with readable(path):
                    values = pq.read_table(path, columns=[column]).column(0).to_pandas()
                _refuse_text(path, column, values)
    return footers


def _refuse_text(path: Path, column: str, values: pd.Series) -> None:
    from arrisk.ledger.frames import typed_column

    try:
        typed_column(column, "float", values)
    except ValueError as err:
        raise ValidationError(f"{path}: {err}") from None


@contextlib.contextmanager
def duckdb_readable(folder: Path) -> Iterator[None]:
    """DuckDB's failure to read one of the book's files (corrupt past its footer) as a
    ``ValidationError``; any other DuckDB error passes through."""
    import duckdb

    try:
        yield
    except duckdb.Error as err:
        text = str(err)
        if "Failed to read file" not in text and "No magic bytes found" not in text:
            raise
        raise ValidationError(f"{folder}: the book cannot be read: {text.splitlines()[0]}") from None
