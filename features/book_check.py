"""What a Parquet book must be before either feature engine reads it, checked before any work.

A file that is not Parquet, or a numeric column given as text that is no number, is refused with the
file, the column and an example, the same way by both engines. Before this the SQL engine read such
amounts as missing (a snapshot of nonsense, no word said) and the pandas engine stopped with a
traceback. Free-form optional amounts (a dispute's) still read as missing when they are no number,
as both engines always did.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from arrisk.errors import ValidationError

# columns the engines read as numbers, wherever a table has them
NUMERIC_COLUMNS = ("amount", "credit_limit", "rate_to_base", "payment_terms_days", "level")
# (table, column) read as missing where a value is no number
LENIENT = {("disputes", "amount")}


def _is_text(arrow_type) -> bool:  # type: ignore[no-untyped-def]
    import pyarrow as pa

    if pa.types.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    return bool(pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type))


@contextlib.contextmanager
def readable(path: Path) -> Iterator[None]:
    """Errors of reading ``path`` (not Parquet, truncated, corrupt pages) as a ``ValidationError``
    naming it."""
    import pyarrow as pa

    try:
        yield
    except (OSError, pa.ArrowException) as err:
        raise ValidationError(f"{path}: not a readable Parquet file ({err})") from None


def check_parquet_book(folder: Path, tables: list[str]) -> None:
    """Refuse the book in ``folder`` if one of ``tables`` (those present) is not readable Parquet or
    holds text that is no number in a numeric column."""
    import pyarrow.parquet as pq

    for name in tables:
        path = folder / f"{name}.parquet"
        if not path.exists():
            continue
        with readable(path):
            schema = pq.read_schema(path)
        for column in NUMERIC_COLUMNS:
            strict = column in schema.names and (name, column) not in LENIENT
            if strict and _is_text(schema.field(column).type):
                with readable(path):
                    values = pq.read_table(path, columns=[column]).column(0).to_pandas()
                _refuse_text(path, column, values)


def _refuse_text(path: Path, column: str, values: pd.Series) -> None:
    numbers = pd.to_numeric(values, errors="coerce")
    bad = values.notna() & numbers.isna()
    if bad.any():
        first = int(bad.to_numpy().argmax())
        raise ValidationError(
            f"{path}: column {column}: {int(bad.sum()):,} of {len(values):,} values are not numbers "
            f"(the first, in row {first + 1}: {values.iloc[first]!r})"
        )


def duckdb_read_error(folder: Path, err: Exception) -> ValidationError | None:
    """DuckDB's failure to read one of the book's files as a ``ValidationError``; None for others."""
    text = str(err)
    if "Failed to read file" not in text and "No magic bytes found" not in text:
        return None
    return ValidationError(f"{folder}: the book cannot be read: {text.splitlines()[0]}")
