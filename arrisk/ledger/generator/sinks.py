"""Arrow schemas of the interchange tables, and writers that append a book chunk by chunk."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from arrisk.errors import ValidationError
from arrisk.ledger.frames import SCHEMAS, TABLES

FORMATS = ("parquet", "csv")
FLOAT_COLUMNS = {"amount", "credit_limit", "rate_to_base"}


def arrow_schema(name: str) -> pa.Schema:
    """Column order and types of one table: dates as timestamps, money as float64, ids and text as strings."""
    required, optional, dates, _ = SCHEMAS[name]
    fields = []
    for column in required + optional:
        if column in dates:
            kind = pa.timestamp("ns")
        elif column in FLOAT_COLUMNS:
            kind = pa.float64()
        elif column == "payment_terms_days":
            kind = pa.int64()
        else:
            kind = pa.string()
        fields.append(pa.field(column, kind))
    return pa.schema(fields)


def conform(name: str, table: pa.Table) -> pa.Table:
    """``table`` with exactly the schema's columns, in order (missing optional columns become null)."""
    schema = arrow_schema(name)
    columns = [
        table[f.name].cast(f.type) if f.name in table.column_names else pa.nulls(len(table), f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)


class BookSink:
    """One file per table in ``folder``; each ``write`` appends a chunk of rows."""

    def __init__(self, folder: Path, fmt: str) -> None:
        if fmt not in FORMATS:
            raise ValidationError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
        self.folder, self.fmt = Path(folder), fmt
        self.folder.mkdir(parents=True, exist_ok=True)
        self.counts = dict.fromkeys(TABLES, 0)
        self._writers: dict[str, pq.ParquetWriter | pacsv.CSVWriter] = {}

    def write(self, tables: dict[str, pa.Table]) -> None:
        for name, table in tables.items():
            table = conform(name, table)
            self._writer(name, table.schema).write_table(table)
            self.counts[name] += len(table)

    def _writer(self, name: str, schema: pa.Schema) -> pq.ParquetWriter | pacsv.CSVWriter:
        if name not in self._writers:
            path = self.folder / f"{name}.{self.fmt}"
            if self.fmt == "parquet":
                self._writers[name] = pq.ParquetWriter(path, schema, compression="snappy")
            else:
                self._writers[name] = _DatedCsvWriter(path, schema)
        return self._writers[name]

    def close(self) -> dict[str, int]:
        """Finish every file (an empty table still gets its header) and return rows per table."""
        for name in TABLES:
            if name not in self._writers:
                self._writer(name, arrow_schema(name))
        for writer in self._writers.values():
            writer.close()
        return dict(self.counts)


class _DatedCsvWriter:
    """CSV with dates as YYYY-MM-DD rather than full timestamps."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.fields = [pa.field(f.name, pa.date32()) if pa.types.is_timestamp(f.type) else f for f in schema]
        self.writer = pacsv.CSVWriter(path, pa.schema(self.fields))

    def write_table(self, table: pa.Table) -> None:
        self.writer.write_table(
            pa.Table.from_arrays(
                [table[f.name].cast(f.type) for f in self.fields], schema=pa.schema(self.fields)
            )
        )

    def close(self) -> None:
        self.writer.close()
