"""The interchange format: one frame per ledger table, read from and written to CSV or Parquet.

This is the contract between the generator, the importers, the store and the feature pipeline.
Inside frames, amounts are float64 (model matrices); the store keeps them as NUMERIC.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

import pandas as pd

# name -> (required columns, optional columns, date columns, id column or None)
SCHEMAS: dict[str, tuple[list[str], list[str], list[str], str | None]] = {
    "customers": (
        ["customer_id", "name", "country", "currency", "payment_terms_days", "credit_limit"],
        ["segment", "collector_id", "created_at", "language", "email"],
        ["created_at"],
        "customer_id",
    ),
    "invoices": (
        ["invoice_id", "customer_id", "invoice_number", "issue_date", "due_date", "amount", "currency"],
        [],
        ["issue_date", "due_date"],
        "invoice_id",
    ),
    "payments": (
        ["payment_id", "payment_date", "amount", "currency"],
        ["customer_id", "method", "reference", "payer_name", "payer_account"],
        ["payment_date"],
        "payment_id",
    ),
    "allocations": (
        ["payment_id", "invoice_id", "amount"],
        ["applied_at", "reversed_at"],
        ["applied_at", "reversed_at"],
        None,
    ),
    "credit_notes": (
        ["credit_note_id", "customer_id", "issue_date", "amount", "currency"],
        ["invoice_id", "reason"],
        ["issue_date"],
        "credit_note_id",
    ),
    "disputes": (
        ["dispute_id", "invoice_id", "opened_at"],
        ["reason", "resolved_at", "outcome", "amount"],
        ["opened_at", "resolved_at"],
        "dispute_id",
    ),
    "promises": (
        ["promise_id", "customer_id", "promised_date", "amount", "created_at"],
        ["invoice_ids"],
        ["promised_date", "created_at"],
        "promise_id",
    ),
    "write_offs": (
        ["invoice_id", "date", "amount"],
        ["write_off_id"],
        ["date"],
        None,
    ),
    # units of base currency per unit of `currency`, valid from rate_date on
    "fx_rates": (
        ["currency", "rate_date", "rate_to_base"],
        [],
        ["rate_date"],
        None,
    ),
}
TABLES = list(SCHEMAS)
REQUIRED_TABLES = ["customers", "invoices", "payments", "allocations"]
# Tables the store makes (dunning runs, payment plans, credit decisions) rather than imports: a folder
# may hold them (the feature engines read them) and ``read_dir`` / ``write_dir`` carry them, but the
# importer does not take them.
EXTRA_SCHEMAS: dict[str, tuple[list[str], list[str], list[str], str | None]] = {
    "dunning_events": (
        ["invoice_id", "level", "event_date"],
        ["customer_id", "status"],
        ["event_date"],
        None,
    ),
    "payment_plans": (
        ["customer_id", "created_at"],
        ["plan_id", "status", "broken_at"],
        ["created_at", "broken_at"],
        None,
    ),
    "credit_limits": (
        ["customer_id", "credit_limit"],
        ["effective_date", "currency"],
        ["effective_date"],
        None,
    ),
}
FLOAT_COLUMNS = ("amount", "credit_limit", "rate_to_base", "level")  # a dunning level may be missing
INT_COLUMNS = ("payment_terms_days",)


def schema(name: str) -> tuple[list[str], list[str], list[str], str | None]:
    """(required columns, optional columns, date columns, id column) of an interchange table."""
    return SCHEMAS[name] if name in SCHEMAS else EXTRA_SCHEMAS[name]


def empty_frame(name: str) -> pd.DataFrame:
    required, optional, dates, _ = SCHEMAS[name]
    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in required + optional})
    for c in dates:
        frame[c] = pd.Series(dtype="datetime64[ns]")
    return frame


@dataclass
class LedgerFrames:
    """A whole book as frames. Extra tables (dunning events, plans) are optional, empty by default."""

    customers: pd.DataFrame
    invoices: pd.DataFrame
    payments: pd.DataFrame
    allocations: pd.DataFrame
    credit_notes: pd.DataFrame = field(default_factory=lambda: empty_frame("credit_notes"))
    disputes: pd.DataFrame = field(default_factory=lambda: empty_frame("disputes"))
    promises: pd.DataFrame = field(default_factory=lambda: empty_frame("promises"))
    write_offs: pd.DataFrame = field(default_factory=lambda: empty_frame("write_offs"))
    fx_rates: pd.DataFrame = field(default_factory=lambda: empty_frame("fx_rates"))
    dunning_events: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            {
                "invoice_id": pd.Series(dtype="object"),
                "customer_id": pd.Series(dtype="object"),
                "level": pd.Series(dtype="int64"),
                "event_date": pd.Series(dtype="datetime64[ns]"),
            }
        )
    )
    payment_plans: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            {
                "plan_id": pd.Series(dtype="object"),
                "customer_id": pd.Series(dtype="object"),
                "created_at": pd.Series(dtype="datetime64[ns]"),
                "status": pd.Series(dtype="object"),
                "broken_at": pd.Series(dtype="datetime64[ns]"),
            }
        )
    )
    # Credit-limit history (the store's credit_limit_history): the limit in force from
    # ``effective_date`` on; NaT = from the customer's start (a first, imported limit).
    credit_limits: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            {
                "customer_id": pd.Series(dtype="object"),
                "effective_date": pd.Series(dtype="datetime64[ns]"),
                "credit_limit": pd.Series(dtype="float64"),
                "currency": pd.Series(dtype="object"),
            }
        )
    )

    def items(self) -> list[tuple[str, pd.DataFrame]]:
        return [(f.name, getattr(self, f.name)) for f in fields(self)]


def _find(folder: Path, name: str) -> Path | None:
    for ext in (".parquet", ".csv"):
        candidate = folder / f"{name}{ext}"
        if candidate.exists():
            return candidate
    return None


def read_table(path: Path, name: str, columns: Collection[str] | None = None) -> pd.DataFrame:
    """Read one interchange table, typed: ids as text, dates as datetime64, amounts float.
    ``columns``: read only those (the ones the file has), not every column.

    A file that cannot be read or a value that cannot be typed is refused with the file's name
    (``ValidationError``), not a traceback."""
    from arrisk.errors import ValidationError

    try:
        if path.suffix == ".parquet":
            if columns is not None:
                import pyarrow.parquet as pq

                have = pq.read_schema(path).names
                frame = pd.read_parquet(path, columns=[c for c in have if c in columns])
            else:
                frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                encoding="utf-8",
                usecols=None if columns is None else (lambda c: c in columns),
            )
        return coerce_types(frame, name, copy=False)
    except (ValueError, TypeError, OSError) as err:  # pandas' parse errors are ValueErrors
        raise ValidationError(f"{path}: {str(err).splitlines()[0]}") from None


def typed_column(column: str, kind: str, values: pd.Series) -> pd.Series:
    """``values`` as ``kind`` (date, float or int); a value that cannot be typed is a ``ValueError``
    naming the column, how many and the first (its data row counted from 1)."""
    try:
        if kind == "date":
            return pd.to_datetime(values).astype("datetime64[ns]")
        return pd.to_numeric(values).astype("float64" if kind == "float" else "int64")
    except (ValueError, TypeError) as err:
        if kind == "date":
            loose = pd.to_datetime(values, errors="coerce")
        else:
            loose = pd.to_numeric(values, errors="coerce")
        bad = (values.notna() & loose.isna()).to_numpy()
        if not bad.any():  # e.g. a missing value where a whole number is needed
            raise ValueError(f"column {column}: {str(err).splitlines()[0]}") from None
        first = int(bad.argmax())
        raise ValueError(
            f"column {column}: {int(bad.sum()):,} of {len(values):,} values are not "
            f"{'dates' if kind == 'date' else 'numbers'} "
            f"(the first, in data row {first + 1}: {values.iloc[first]!r})"
        ) from None


def coerce_types(frame: pd.DataFrame, name: str, *, copy: bool = True) -> pd.DataFrame:
    """Best-effort typing for trusted data (generator output); the importer validates strictly.
    ``copy=False``: type ``frame`` itself (a frame the caller just read and hands over)."""
    required, optional, dates, _ = schema(name)
    out = frame.copy() if copy else frame
    for col in dates:
        if col in out:
            out[col] = typed_column(col, "date", out[col])
    for col in FLOAT_COLUMNS:
        if col in out:
            out[col] = typed_column(col, "float", out[col])
    for col in INT_COLUMNS:
        if col in out:
            out[col] = typed_column(col, "int", out[col])
    for col in required + optional:
        if col in out and col not in dates and col not in (*FLOAT_COLUMNS, *INT_COLUMNS):
            values = out[col] if out[col].dtype == object else out[col].astype("object")
            missing = values.isna()
            out[col] = values.where(~missing, None) if missing.any() else values  # NaN -> None
    if name == "allocations" and "applied_at" not in out:
        out["applied_at"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    return out


def read_dir(folder: Path, columns: Mapping[str, Collection[str]] | None = None) -> LedgerFrames:
    """Read a folder in the interchange format (``NAME.parquet`` or ``NAME.csv`` per table), the
    store-made tables (dunning events, payment plans, credit-limit history) where the folder has them.

    ``columns``: table -> the columns to read (those a file lacks are left out; a table not named is
    read whole). The feature pipeline and training read only what they use
    (``features.source.BOOK_COLUMNS``): remittance text, payer names and the like are most of a big
    book's memory."""
    folder = Path(folder)
    tables: dict[str, pd.DataFrame] = {}
    for name in [*TABLES, *EXTRA_SCHEMAS]:
        path = _find(folder, name)
        if path is None:
            if name in REQUIRED_TABLES:
                raise FileNotFoundError(f"{folder}: no {name}.csv or {name}.parquet")
            continue
        tables[name] = read_table(path, name, None if columns is None else columns.get(name))
    frames = LedgerFrames(**tables)
    return fill_allocation_dates(frames)


def fill_allocation_dates(frames: LedgerFrames) -> LedgerFrames:
    """An allocation without ``applied_at`` is applied on its payment's date."""
    alloc = frames.allocations
    if alloc["applied_at"].isna().any():
        pay_date = frames.payments.set_index("payment_id")["payment_date"]
        filled = alloc["applied_at"].fillna(alloc["payment_id"].map(pay_date))
        frames.allocations = alloc.assign(applied_at=filled)
    return frames


def write_dir(frames: LedgerFrames, folder: Path, fmt: str = "parquet") -> dict[str, int]:
    """Write the interchange tables; returns rows written per table."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    extra = [name for name in EXTRA_SCHEMAS if len(getattr(frames, name))]  # only where the book has some
    for name in [*TABLES, *extra]:
        frame = getattr(frames, name)
        if fmt == "parquet":
            frame.to_parquet(folder / f"{name}.parquet", index=False)
        else:
            frame.to_csv(folder / f"{name}.csv", index=False, date_format="%Y-%m-%d")
        counts[name] = len(frame)
    return counts
