"""Statement of account on demand: a customer's invoices as of a date with open amounts, as CSV or PDF."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from arrisk.collections._records import get_customer
from arrisk.collections.book import Book, open_amounts, read_book
from arrisk.dunning.pdf import write_statement_pdf
from arrisk.errors import ValidationError
from arrisk.store import audit
from arrisk.store.db import session_scope

COLUMNS = [
    "invoice_number",
    "invoice_id",
    "issue_date",
    "due_date",
    "currency",
    "amount",
    "open_amount",
    "days_past_due",
]


def statement_lines(book: Book, customer_id: str, as_of: dt.date, *, open_only: bool = True) -> pd.DataFrame:
    """The customer's invoices issued by the date with open amount and days past due, oldest due first."""
    inv = book.invoices.loc[
        (book.invoices["customer_id"] == customer_id) & (book.invoices["issue_date"] <= pd.Timestamp(as_of))
    ]
    inv = inv.assign(
        open_amount=inv["invoice_id"].map(open_amounts(book, as_of)).fillna(0.0),
        days_past_due=(pd.Timestamp(as_of) - inv["due_date"]).dt.days,
    )
    if open_only:
        inv = inv.loc[inv["open_amount"] > 0.005]
    inv = inv.sort_values(["due_date", "invoice_number"])
    out = inv[COLUMNS].copy()
    out["issue_date"] = out["issue_date"].dt.date
    out["due_date"] = out["due_date"].dt.date
    return out.reset_index(drop=True)


def write_statement(
    engine: Engine, customer_id: str, as_of: dt.date, *, path: Path, fmt: str = "pdf", open_only: bool = True
) -> Path:
    """Write the statement to ``path`` as ``pdf`` or ``csv``."""
    if fmt not in ("pdf", "csv"):
        raise ValidationError(f"statement format must be pdf or csv, got {fmt!r}")
    with session_scope(engine) as session:
        customer = audit.row_dict(get_customer(session, customer_id)) or {}
    lines = statement_lines(read_book(engine, as_of=as_of), customer_id, as_of, open_only=open_only)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        lines.to_csv(path, index=False)
        return path
    return write_statement_pdf(path, customer=customer, as_of=as_of, lines=lines.to_dict("records"))
