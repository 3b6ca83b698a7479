"""Synthetic AR books: believable B2B customers whose payment behaviour differs and changes over time.

``generate_book`` returns a small book in memory; ``write_book`` streams a large one to Parquet or CSV.
The behaviour behind each customer is hidden from the book; ``return_truth=True`` hands it to tests.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from typing import Literal, overload

import pandas as pd

from arrisk.ledger.frames import TABLES, LedgerFrames, coerce_types
from arrisk.ledger.generator.book import CHUNK_CUSTOMERS, check_request, iter_chunks, write_book
from arrisk.ledger.generator.catalog import BEHAVIOUR_NAMES, Behaviour
from arrisk.ledger.generator.sinks import conform

__all__ = ["BEHAVIOUR_NAMES", "Behaviour", "book_end", "generate_book", "write_book"]


def book_end(start: date, months: int) -> date:
    """First day after the book: every generated event is dated before it."""
    return check_request(n_customers=1, months=months, start=start).end


@overload
def generate_book(
    *,
    n_customers: int,
    months: int,
    seed: int,
    start: date = ...,
    base_currency: str = ...,
    invoice_rate: float = ...,
    columns: Mapping[str, Collection[str]] | None = ...,
    return_truth: Literal[False] = ...,
) -> LedgerFrames: ...
@overload
def generate_book(
    *,
    n_customers: int,
    months: int,
    seed: int,
    start: date = ...,
    base_currency: str = ...,
    invoice_rate: float = ...,
    columns: Mapping[str, Collection[str]] | None = ...,
    return_truth: Literal[True],
) -> tuple[LedgerFrames, pd.DataFrame]: ...
def generate_book(
    *,
    n_customers: int,
    months: int,
    seed: int,
    start: date = date(2025, 1, 1),
    base_currency: str = "EUR",
    invoice_rate: float = 1.0,
    columns: Mapping[str, Collection[str]] | None = None,
    return_truth: bool = False,
) -> LedgerFrames | tuple[LedgerFrames, pd.DataFrame]:
    """A book in memory, identical to what ``write_book`` writes for the same arguments.

    ``invoice_rate`` scales every customer's invoices per month (1 = the default volumes).
    ``columns``: table -> the columns to keep (as ``read_dir`` takes them); the others are dropped
    before they become Python objects (training keeps ``features.source.BOOK_COLUMNS``).
    With ``return_truth`` also a frame of customer_id, behaviour, default_date and batch_payer.
    """
    import pyarrow as pa

    from arrisk.ledger.generator.fx import fx_rates_table

    span = check_request(
        n_customers=n_customers,
        months=months,
        start=start,
        base_currency=base_currency,
        invoice_rate=invoice_rate,
    )
    parts: dict[str, list[pa.Table]] = {name: [] for name in TABLES}
    parts["fx_rates"].append(fx_rates_table(seed, span, base_currency=base_currency))
    truths = []
    for chunk in iter_chunks(
        n_customers=n_customers,
        months=months,
        seed=seed,
        start=start,
        chunk_customers=CHUNK_CUSTOMERS,
        invoice_rate=invoice_rate,
    ):
        for name, table in chunk.tables.items():
            parts[name].append(conform(name, table))
        truths.append(chunk.truth)
    frames = {}
    for name in list(parts):
        # one table's Arrow memory at a time, freed as it is converted: the book is never held twice
        table = pa.concat_tables(parts.pop(name))
        if columns is not None and name in columns:
            table = table.select([c for c in table.column_names if c in columns[name]])
        frames[name] = coerce_types(table.to_pandas(split_blocks=True, self_destruct=True), name, copy=False)
        del table
    book = LedgerFrames(**frames)
    if return_truth:
        return book, pa.concat_tables(truths).to_pandas()
    return book
