"""Lean loading for large books: only the columns features read, ids as categoricals that share
one set of categories per kind (customer, invoice, payment), so ``clip_book`` never hashes an id.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from arrisk.ledger.frames import LedgerFrames
from features.book_check import LENIENT

# table -> columns the feature pipeline reads
FEATURE_COLUMNS: dict[str, list[str]] = {
    "customers": ["customer_id", "currency", "payment_terms_days", "credit_limit", "created_at"],
    "invoices": ["invoice_id", "customer_id", "issue_date", "due_date", "amount", "currency"],
    "payments": ["payment_id", "customer_id", "payment_date", "amount", "currency"],
    "allocations": ["payment_id", "invoice_id", "amount", "applied_at", "reversed_at"],
    "credit_notes": ["credit_note_id", "customer_id", "invoice_id", "issue_date", "amount", "currency"],
    "disputes": ["dispute_id", "invoice_id", "opened_at", "resolved_at", "amount"],
    "promises": ["promise_id", "customer_id", "created_at", "promised_date", "amount", "currency"],
    "write_offs": ["invoice_id", "date", "amount", "status"],
    "fx_rates": ["currency", "rate_date", "rate_to_base"],
}
# the store-made tables, where a book has them
OPTIONAL_COLUMNS: dict[str, list[str]] = {
    "dunning_events": ["invoice_id", "customer_id", "level", "event_date", "status"],
    "payment_plans": ["customer_id", "created_at", "broken_at"],
    "credit_limits": ["customer_id", "effective_date", "credit_limit", "currency"],
}
# every column features, labels and training read: ``read_dir(folder, BOOK_COLUMNS)`` leaves out
# names, remittance text and payer details (at a million customers, a third of the memory)
BOOK_COLUMNS: dict[str, list[str]] = {**FEATURE_COLUMNS, **OPTIONAL_COLUMNS}
# id kind -> (defining table, [(table, column) that refer to it])
ID_KINDS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "customer_id": (
        "customers",
        [("invoices", "customer_id"), ("payments", "customer_id"), ("credit_notes", "customer_id"),
         ("promises", "customer_id"), ("dunning_events", "customer_id"), ("payment_plans", "customer_id"),
         ("credit_limits", "customer_id")],
    ),
    "invoice_id": (
        "invoices",
        [("allocations", "invoice_id"), ("credit_notes", "invoice_id"), ("disputes", "invoice_id"),
         ("write_offs", "invoice_id"), ("dunning_events", "invoice_id")],
    ),
    "payment_id": ("payments", [("allocations", "payment_id")]),
}  # fmt: skip


def encode_ids(frames: LedgerFrames) -> LedgerFrames:
    """A copy whose id columns are categoricals sharing their id table's categories (row order kept)."""
    tables = {name: frame.copy(deep=False) for name, frame in frames.items()}
    for kind, (owner, refs) in ID_KINDS.items():
        ids = np.asarray(tables[owner][kind], dtype=object)
        dtype = pd.CategoricalDtype(pd.Index(ids))
        tables[owner][kind] = pd.Categorical.from_codes(np.arange(len(ids)), dtype=dtype)
        for table, column in refs:
            if column in tables[table]:
                tables[table][column] = pd.Categorical(
                    np.asarray(tables[table][column], dtype=object), dtype=dtype
                )
    for frame in tables.values():
        if "currency" in frame:
            frame["currency"] = frame["currency"].astype("category")
    return LedgerFrames(**tables)


def _to_pandas(table, name: str) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Everything but ids, typed: dates datetime64[ns], amounts float64, other text categorical."""
    keep = [c for c in table.column_names if c not in ID_KINDS]
    frame = table.select(keep).to_pandas(strings_to_categorical=True, date_as_object=False)
    for column in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[column]) and frame[column].dtype != "datetime64[ns]":
            frame[column] = frame[column].astype("datetime64[ns]")
        elif column in ("amount", "credit_limit", "rate_to_base") and frame[column].dtype != "float64":
            # text here passed ``features.book_check``; where it is lenient, no number reads as missing
            lenient = (name, column) in LENIENT
            frame[column] = pd.to_numeric(frame[column], errors="coerce" if lenient else "raise").astype(
                "float64"
            )
    return frame


def pa_is_string(arrow_type) -> bool:  # type: ignore[no-untyped-def]
    import pyarrow as pa

    return pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)
