"""Fast path from a Parquet book to an ``AsOfBook``: ids never become Python strings on the way.

DuckDB joins every id column to its id table once per kind and hands back the id table's row
number; those row numbers become categoricals over a ``RangeIndex``, which ``clip_book`` maps with
no hashing. The cut itself is still ``clip_book`` (the one leak guard); only afterwards are the
kept customers' and invoices' row numbers swapped for their real ids.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import NoReturn

import numpy as np
import pandas as pd

from arrisk.ledger.frames import LedgerFrames
from features.asof import AsOfBook, clip_book
from features.book_check import check_parquet_book, duckdb_readable, readable
from features.source import BOOK_COLUMNS, ID_KINDS, _to_pandas, pa_is_string


def _quoted(path: Path | str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _present(folder: Path) -> dict[str, list[str]]:
    """Table -> the wanted columns that its Parquet file has (tables without a file are left out)."""
    import pyarrow.parquet as pq

    out = {}
    for name, wanted in BOOK_COLUMNS.items():
        path = folder / f"{name}.parquet"
        if path.exists():
            names = set(pq.read_schema(path).names)
            out[name] = [c for c in wanted if c in names]
    return out


def _owner_rows(con, folder: Path, kind: str, columns: dict[str, list[str]]) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    """For each table referring to ``kind``: the row of the id table each of its rows names (-1: none).

    One hash join per kind over all referring columns. An id that appears twice in its table
    and is referred to multiplies rows, which is refused (as ``clip_book`` refuses a non-unique
    index); customer ids are checked outright, the big id tables only through the join (an
    exact distinct count of 10M invoice ids would cost more than the join itself).
    """
    owner, refs = ID_KINDS[kind]
    source = f"read_parquet({_quoted(folder / f'{owner}.parquet')}, file_row_number=true)"
    if kind == "customer_id":
        repeated = con.execute(f"SELECT count({kind}) - count(DISTINCT {kind}) FROM {source}").fetchone()[0]
        if repeated:
            _refuse_duplicates(owner, kind)
    refs = [(t, c) for t, c in refs if c in columns.get(t, [])]
    if not refs:
        return {}
    union = " UNION ALL ".join(
        f"SELECT {i}::TINYINT AS t, file_row_number AS r, {c} AS id "
        f"FROM read_parquet({_quoted(folder / f'{t}.parquet')}, file_row_number=true)"
        for i, (t, c) in enumerate(refs)
    )
    sql = (
        f"WITH o AS (SELECT {kind} AS id, file_row_number AS code FROM {source}) "
        f"SELECT t, r, coalesce(o.code, -1) AS code FROM ({union}) refs LEFT JOIN o USING (id)"
    )
    got = con.execute(sql).fetchnumpy()
    t, r, code = (np.asarray(got[k]) for k in ("t", "r", "code"))
    out = {}
    for i, (table, _) in enumerate(refs):
        mine = t == i
        rows = np.full(_num_rows(folder, table), -1, dtype="int64")
        if int(mine.sum()) != len(rows):
            _refuse_duplicates(owner, kind)
        rows[r[mine]] = code[mine]
        out[table] = rows
    return out


def _refuse_duplicates(owner: str, kind: str) -> NoReturn:
    from arrisk.errors import ValidationError

    raise ValidationError(f"{owner}.parquet: {kind} must be unique, some ids appear more than once")


def _num_rows(folder: Path, table: str) -> int:
    import pyarrow.parquet as pq

    return int(pq.read_metadata(folder / f"{table}.parquet").num_rows)


def read_coded_frames(folder: Path | str) -> tuple[LedgerFrames, dict[str, np.ndarray]]:
    """The book's feature columns, id columns as categoricals over id-table row numbers.

    Also returns the real ids of the customers and invoices tables (as NumPy arrays of strings
    from Arrow), to label the rows kept by ``clip_book``.
    """
    import duckdb
    import pyarrow.parquet as pq

    folder = Path(folder)
    check_parquet_book(folder)
    columns = _present(folder)
    con = duckdb.connect()
    try:
        with duckdb_readable(folder):  # a file that is corrupt past its footer
            rows = {kind: _owner_rows(con, folder, kind, columns) for kind in ID_KINDS}
    finally:
        con.close()
    sizes = {kind: _num_rows(folder, owner) for kind, (owner, _) in ID_KINDS.items()}
    dtypes = {kind: pd.CategoricalDtype(pd.RangeIndex(n)) for kind, n in sizes.items()}
    tables = {}
    for name, wanted in columns.items():
        plain = [c for c in wanted if c not in ID_KINDS]
        path = folder / f"{name}.parquet"
        # text columns (currency, status) come out as Parquet's own dictionaries: no re-encoding
        schema = pq.read_schema(path)
        text = [c for c in plain if pa_is_string(schema.field(c).type)]
        with readable(path):
            frame = _to_pandas(pq.read_table(path, columns=plain, read_dictionary=text), name)
        for kind, (owner, _) in ID_KINDS.items():
            if name == owner:
                frame[kind] = pd.Categorical.from_codes(np.arange(sizes[kind]), dtype=dtypes[kind])
            elif name in rows[kind]:
                frame[kind] = pd.Categorical.from_codes(rows[kind][name], dtype=dtypes[kind])
        tables[name] = frame
    _fill_applied_at(tables)
    ids = {}
    for kind, (owner, _) in ID_KINDS.items():
        if kind != "payment_id":
            with readable(folder / f"{owner}.parquet"):
                ids[kind] = pq.read_table(folder / f"{owner}.parquet", columns=[kind]).column(kind)
    return LedgerFrames(**tables), ids  # type: ignore[arg-type]


def _fill_applied_at(tables: dict[str, pd.DataFrame]) -> None:
    """An allocation without ``applied_at`` is applied on its payment's date (``fill_allocation_dates``)."""
    alloc = tables["allocations"]
    missing = alloc["applied_at"].isna().to_numpy()
    if missing.any():
        pay = alloc["payment_id"].cat.codes.to_numpy()
        pay_date = np.append(tables["payments"]["payment_date"].to_numpy(), np.datetime64("NaT", "ns"))
        filled = np.where(missing, pay_date[pay], alloc["applied_at"].to_numpy())
        tables["allocations"] = alloc.assign(applied_at=filled)


def read_asof_book(folder: Path | str, as_of: date | pd.Timestamp | str) -> AsOfBook:
    """``clip_book`` of a Parquet book, read lean; same book as ``clip_book(read_dir(folder), as_of)``."""
    import pyarrow as pa

    frames, ids = read_coded_frames(folder)
    book = clip_book(frames, as_of)
    del frames
    customer_rows = book.customer_ids.to_numpy(dtype="int64")
    invoice_rows = book.invoice_ids.to_numpy(dtype="int64")
    customer_ids = ids["customer_id"].take(pa.array(customer_rows)).to_numpy(zero_copy_only=False)
    invoice_ids = pd.arrays.ArrowStringArray(ids["invoice_id"].take(pa.array(invoice_rows)).cast(pa.string()))
    return replace(
        book,
        customer_ids=pd.Index(customer_ids.astype(object), name="customer_id"),
        invoice_ids=pd.Index(invoice_ids, name="invoice_id"),
    )
