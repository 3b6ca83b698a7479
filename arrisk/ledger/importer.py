"""`arrisk import`: validate a book in the interchange format, then write it in one transaction.

Nothing is written unless every table passes: a bad file names the file, row, column and value.
Importing the same files again adds nothing; a row whose id exists with other values is updated.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine, select

from arrisk.ledger.frames import EXTRA_SCHEMAS, REQUIRED_TABLES, SCHEMAS, TABLES, LedgerFrames
from arrisk.ledger.validation import ImportValidationError, Problem, TableChecker
from arrisk.store import tables as t

BOM = b"\xef\xbb\xbf"
ZERO = Decimal("0")
# the column must be present, but a blank means "not known" (real books often lack these)
DISPUTE_OUTCOMES = ("credit_note", "rejected", "withdrawn")
NULLABLE = {("customers", "country"), ("customers", "credit_limit")}


@dataclass
class ImportReport:
    source: str
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    seconds: float = 0.0
    # files of the folder left out on purpose: tables the store makes itself (dunning events,
    # payment plans, credit-limit history), which a folder written by ``write_dir`` may hold
    not_imported: list[str] = field(default_factory=list)

    @property
    def inserted(self) -> int:
        return sum(c["inserted"] for c in self.counts.values())

    @property
    def updated(self) -> int:
        return sum(c["updated"] for c in self.counts.values())


# ---------------------------------------------------------------- reading files


def read_raw_dir(folder: Path) -> dict[str, tuple[pd.DataFrame, str]]:
    """Read each table as text (CSV) or as stored (Parquet), refusing BOMs and non-UTF-8 bytes."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ImportValidationError([Problem(str(folder), None, None, None, "is not a folder")])
    raw: dict[str, tuple[pd.DataFrame, str]] = {}
    problems: list[Problem] = []
    for name in TABLES:
        csv, parquet = folder / f"{name}.csv", folder / f"{name}.parquet"
        if parquet.exists():
            frame = _read_parquet(parquet, problems)
            if frame is not None:
                raw[name] = (frame, parquet.name)
        elif csv.exists():
            frame = _read_csv(csv, problems)
            if frame is not None:
                raw[name] = (frame, csv.name)
        elif name in REQUIRED_TABLES:
            problems.append(Problem(str(folder), None, None, None, f"has no {name}.csv or {name}.parquet"))
    if problems:
        raise ImportValidationError(problems)
    return raw


def _read_parquet(path: Path, problems: list[Problem]) -> pd.DataFrame | None:
    import pyarrow as pa

    try:
        return pd.read_parquet(path)
    except (OSError, pa.ArrowException) as err:  # not Parquet, truncated, corrupt pages
        problems.append(Problem(path.name, None, None, None, f"is not a readable Parquet file: {err}"))
        return None


def _read_csv(path: Path, problems: list[Problem]) -> pd.DataFrame | None:
    data = path.read_bytes()
    if data.startswith(BOM):
        problems.append(
            Problem(
                path.name, None, None, None, "starts with a UTF-8 byte-order mark; save as UTF-8 without BOM"
            )
        )
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        problems.append(
            Problem(path.name, None, None, None, f"line {line}: not UTF-8 (byte 0x{data[err.start]:02x})")
        )
        return None
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        problems.append(Problem(path.name, None, None, None, f"is not a readable CSV: {err}"))
        return None


# ---------------------------------------------------------------- per-table checks


def _check_table(name: str, frame: pd.DataFrame, file: str) -> tuple[pd.DataFrame, list[Problem]]:
    c = TableChecker(name, frame, file)
    if not c.check_columns():
        return c.out, c.problems
    required, optional, dates, id_col = SCHEMAS[name]
    for col in required + optional:
        must = col in required and (name, col) not in NULLABLE
        if col in dates:
            c.date(col, required=must)
        elif col == "currency":
            c.currency(col, required=must)
        elif col == "payment_terms_days":
            c.integer(col, minimum=0)
        elif col in ("amount", "credit_limit", "rate_to_base"):
            strict = name in ("payments", "allocations", "write_offs", "fx_rates", "promises")
            c.money(col, required=must, minimum=ZERO, strict=strict)
        else:
            c.text(col, required=must)
    if name == "invoices":
        early = c.out["due_date"] < c.out["issue_date"]
        c.flag(early, "due_date", "is before issue_date", c.out["due_date"].dt.strftime("%Y-%m-%d"))
    if name == "disputes":
        early = c.out["resolved_at"].notna() & (c.out["resolved_at"] < c.out["opened_at"])
        c.flag(early, "resolved_at", "is before opened_at", c.out["resolved_at"].dt.strftime("%Y-%m-%d"))
        outcome = c.out["outcome"]
        unknown = outcome.notna() & ~outcome.isin(DISPUTE_OUTCOMES)
        c.flag(unknown, "outcome", f"is not one of {', '.join(DISPUTE_OUTCOMES)}", outcome)
    keys = (
        [id_col]
        if id_col
        else {
            "allocations": ["payment_id", "invoice_id"],
            "fx_rates": ["currency", "rate_date"],
            "write_offs": ["invoice_id", "date"],
        }[name]
    )
    c.unique(keys)
    return c.out, c.problems


# ---------------------------------------------------------------- cross-table checks


def _known_ids(engine: Engine, table: type[t.Base], column: str) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(getattr(table, column))).scalars())


def _check_refs(book: dict[str, pd.DataFrame], files: dict[str, str], engine: Engine) -> list[Problem]:
    problems: list[Problem] = []
    customers = set(book["customers"]["customer_id"].dropna()) | _known_ids(engine, t.Customer, "customer_id")
    invoices = set(book["invoices"]["invoice_id"].dropna()) | _known_ids(engine, t.Invoice, "invoice_id")
    payments = set(book["payments"]["payment_id"].dropna()) | _known_ids(engine, t.Payment, "payment_id")
    refs = [
        ("invoices", "customer_id", customers, "customer"),
        ("payments", "customer_id", customers, "customer"),
        ("allocations", "payment_id", payments, "payment"),
        ("allocations", "invoice_id", invoices, "invoice"),
        ("credit_notes", "customer_id", customers, "customer"),
        ("credit_notes", "invoice_id", invoices, "invoice"),
        ("disputes", "invoice_id", invoices, "invoice"),
        ("promises", "customer_id", customers, "customer"),
        ("write_offs", "invoice_id", invoices, "invoice"),
    ]
    for name, col, known, what in refs:
        frame = book.get(name)
        if frame is None or col not in frame:
            continue
        values = frame[col]
        unknown = values.notna() & ~values.isin(known)
        checker = TableChecker(name, frame, files[name])
        checker.flag(unknown, col, f"is not a known {what}", values)
        problems += checker.problems
    return problems + _check_over_allocation(book, files, engine)


def _check_over_allocation(
    book: dict[str, pd.DataFrame], files: dict[str, str], engine: Engine
) -> list[Problem]:
    """Allocations may not exceed their payment, nor their invoice (counting what is already stored)."""
    alloc = book["allocations"]
    if alloc.empty:
        return []
    with engine.connect() as conn:
        stored = pd.DataFrame(
            conn.execute(
                select(t.Allocation.payment_id, t.Allocation.invoice_id, t.Allocation.amount).where(
                    t.Allocation.reversed_at.is_(None)
                )
            ).all(),
            columns=["payment_id", "invoice_id", "amount"],
        )
        pay_amounts = dict(conn.execute(select(t.Payment.payment_id, t.Payment.amount)).all())
        inv_amounts = dict(conn.execute(select(t.Invoice.invoice_id, t.Invoice.amount)).all())
    pay_amounts.update(zip(book["payments"]["payment_id"], book["payments"]["amount"], strict=True))
    inv_amounts.update(zip(book["invoices"]["invoice_id"], book["invoices"]["amount"], strict=True))
    new_keys = set(zip(alloc["payment_id"], alloc["invoice_id"], strict=True))
    stored = stored[[k not in new_keys for k in zip(stored["payment_id"], stored["invoice_id"], strict=True)]]
    combined = pd.concat([alloc[["payment_id", "invoice_id", "amount"]], stored], ignore_index=True)
    problems: list[Problem] = []
    for key, totals, what in (("payment_id", pay_amounts, "payment"), ("invoice_id", inv_amounts, "invoice")):
        sums = _decimal_sums(combined[key], combined["amount"])
        over = {k: v for k, v in sums.items() if k in totals and totals[k] is not None and v > totals[k]}
        mask = alloc[key].isin(over)
        first = mask & ~alloc[key].duplicated()
        checker = TableChecker("allocations", alloc, files["allocations"])
        rule = f"is over-allocated: allocations exceed the {what} amount"
        checker.flag(first, key, rule, alloc[key])
        problems += checker.problems
    return problems


def _decimal_sums(keys: pd.Series, amounts: pd.Series) -> dict[Any, Decimal]:
    """Exact sum of the Decimal ``amounts`` per key. Whole cents (what validation leaves) are summed as
    int64 cents by a vectorised group-by; anything finer falls back to a Decimal sum per group."""
    values = amounts.tolist()
    cents = [int(v.scaleb(2)) if v is not None else 0 for v in values]
    if all(Decimal(c) == (v.scaleb(2) if v is not None else 0) for c, v in zip(cents, values, strict=True)):
        summed = pd.Series(cents, index=keys.to_numpy(), dtype="int64").groupby(level=0, sort=False).sum()
        return {k: Decimal(int(c)).scaleb(-2) for k, c in summed.items()}
    return dict(amounts.groupby(keys.to_numpy()).agg(lambda s: sum((v for v in s if v is not None), ZERO)))


def validate_book(raw: dict[str, tuple[pd.DataFrame, str]], engine: Engine) -> dict[str, pd.DataFrame]:
    """Typed, checked tables (amounts as Decimal); raises ImportValidationError listing every problem."""
    book: dict[str, pd.DataFrame] = {}
    files: dict[str, str] = {}
    problems: list[Problem] = []
    for name in TABLES:
        if name not in raw:
            continue
        frame, file = raw[name]
        book[name], found = _check_table(name, frame, file)
        files[name] = file
        problems += found
    if problems:
        raise ImportValidationError(problems)
    for name in TABLES:
        if name not in book:
            book[name] = _check_table(name, pd.DataFrame({c: [] for c in SCHEMAS[name][0]}), name)[0]
            files[name] = name
    problems = _check_refs(book, files, engine)
    if problems:
        raise ImportValidationError(problems)
    return book


def import_frames(engine: Engine, frames: LedgerFrames, *, source: str) -> ImportReport:
    """Validate and write typed frames (from the generator or a data-set adapter)."""
    raw = {name: (getattr(frames, name), f"{name}") for name in TABLES}
    return _import(engine, raw, source=source)


def import_dir(engine: Engine, folder: Path) -> ImportReport:
    """Validate and write a folder of CSV or Parquet files in the interchange format."""
    report = _import(engine, read_raw_dir(folder), source=str(folder))
    report.not_imported = [
        path.name
        for name in EXTRA_SCHEMAS
        for path in (Path(folder) / f"{name}.parquet", Path(folder) / f"{name}.csv")
        if path.exists()
    ]
    return report


def _import(engine: Engine, raw: dict[str, tuple[pd.DataFrame, str]], *, source: str) -> ImportReport:
    from arrisk.ledger.writer import write_book

    started = time.perf_counter()
    book = validate_book(raw, engine)
    counts = write_book(engine, book, source=source)
    return ImportReport(source=source, counts=counts, seconds=time.perf_counter() - started)
