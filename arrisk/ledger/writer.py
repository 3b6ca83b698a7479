"""Writes a validated book into the store: insert new ids, update changed rows, in one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.orm import Session

from arrisk.store import tables as t
from arrisk.store.audit import record
from arrisk.store.bulk import insert_rows
from arrisk.store.db import session_scope

CHUNK = 500
Row = dict[str, Any]


def _py(value: Any) -> Any:
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, float) and value != value:
        return None
    return value


def _records(frame: pd.DataFrame, columns: list[str]) -> list[Row]:
    cols = [c for c in columns if c in frame]
    values = [_python_values(frame[c]) for c in cols]
    return [dict(zip(cols, row, strict=True)) for row in zip(*values, strict=True)]


def _python_values(column: pd.Series) -> list[Any]:
    """A column as Python values, as ``_py`` gives them, converted a column at a time where it can."""
    if pd.api.types.is_datetime64_any_dtype(column):
        days = column.to_numpy(dtype="datetime64[D]").astype(object)  # NaT becomes None
        return days.tolist()
    if pd.api.types.is_integer_dtype(column) or pd.api.types.is_bool_dtype(column):
        return column.tolist()
    return [v if type(v) in _AS_IS else _py(v) for v in column.tolist()]


_AS_IS = {str, Decimal, int}  # values ``_py`` returns unchanged


def _chunks(items: list[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _upsert(session: Session, model: type[t.Base], rows: list[Row], keys: list[str]) -> dict[str, int]:
    """Insert rows whose key is new; update those whose stored values differ; leave the rest."""
    counts = {"inserted": 0, "updated": 0, "unchanged": 0}
    if not rows:
        return counts
    key_cols = [getattr(model, k) for k in keys]
    columns = list(rows[0])
    existing: dict[tuple[Any, ...], Row] = {}
    if session.execute(select(key_cols[0]).limit(1)).first() is not None:
        for chunk in _chunks(rows):
            if len(keys) == 1:
                cond = key_cols[0].in_([r[keys[0]] for r in chunk])
            else:
                cond = key_cols[0].in_({r[keys[0]] for r in chunk})
            for found in session.execute(
                select(*[getattr(model, c) for c in columns]).where(cond)
            ).mappings():
                existing[tuple(found[k] for k in keys)] = dict(found)
    inserts, updates = [], []
    for row in rows:
        old = existing.get(tuple(row[k] for k in keys))
        if old is None:
            inserts.append(row)
        elif any(_differs(old[c], row[c]) for c in columns):
            updates.append(row)
        else:
            counts["unchanged"] += 1
    insert_rows(session.connection(), model, inserts)
    if updates:
        session.execute(update(model), updates)
    counts["inserted"], counts["updated"] = len(inserts), len(updates)
    return counts


def _differs(old: Any, new: Any) -> bool:
    if isinstance(old, Decimal) and isinstance(new, Decimal):
        return old.compare(new) != 0
    if isinstance(old, dt.datetime) and isinstance(new, dt.date):
        return old.date() != new
    return old != new


def _lookup(session: Session, column: Any, key: Any) -> dict[Any, Any]:
    return dict(session.execute(select(key, column)).all())


def _customers(book: dict[str, pd.DataFrame], _s: Session) -> list[Row]:
    cols = [
        "customer_id",
        "name",
        "country",
        "currency",
        "payment_terms_days",
        "credit_limit",
        "segment",
        "collector_id",
        "created_at",
        "language",
        "email",
    ]
    rows = _records(book["customers"], cols)
    for row in rows:
        row["payment_terms_days"] = int(row["payment_terms_days"])
    return rows


def _allocations(book: dict[str, pd.DataFrame], session: Session) -> list[Row]:
    alloc = book["allocations"]
    pays = book["payments"].set_index("payment_id")
    pay_ccy = dict(zip(pays.index, pays["currency"], strict=True))
    pay_date = dict(zip(pays.index, pays["payment_date"], strict=True))
    missing = set(alloc["payment_id"]) - set(pay_ccy)
    if missing:
        stored = session.execute(
            select(t.Payment.payment_id, t.Payment.currency, t.Payment.payment_date).where(
                t.Payment.payment_id.in_(missing)
            )
        ).all()
        for pid, ccy, date in stored:
            pay_ccy[pid], pay_date[pid] = ccy, pd.Timestamp(date)
    rows = _records(alloc, ["payment_id", "invoice_id", "amount", "applied_at", "reversed_at"])
    for row in rows:
        row["allocation_id"] = f"{row['payment_id']}:{row['invoice_id']}"
        row["currency"] = pay_ccy[row["payment_id"]]
        row["applied_at"] = row["applied_at"] or _py(pay_date[row["payment_id"]])
        row["source"] = "import"
    return rows


def _disputes(book: dict[str, pd.DataFrame], session: Session) -> list[Row]:
    owner = dict(zip(book["invoices"]["invoice_id"], book["invoices"]["customer_id"], strict=True))
    rows = _records(
        book["disputes"],
        ["dispute_id", "invoice_id", "opened_at", "reason", "resolved_at", "outcome", "amount"],
    )
    unknown = {r["invoice_id"] for r in rows} - set(owner)
    if unknown:
        owner.update(_lookup_in(session, t.Invoice.customer_id, t.Invoice.invoice_id, unknown))
    for row in rows:
        row["customer_id"] = owner[row["invoice_id"]]
        row["status"] = "resolved" if row["resolved_at"] else "open"
    return rows


def _lookup_in(session: Session, column: Any, key: Any, ids: set[Any]) -> dict[Any, Any]:
    found: dict[Any, Any] = {}
    for chunk in _chunks(sorted(ids)):
        found.update(dict(session.execute(select(key, column).where(key.in_(chunk))).all()))
    return found


def _promises(book: dict[str, pd.DataFrame], session: Session) -> list[Row]:
    rows = _records(
        book["promises"],
        ["promise_id", "customer_id", "promised_date", "amount", "created_at", "invoice_ids"],
    )
    ccy = _lookup_in(session, t.Customer.currency, t.Customer.customer_id, {r["customer_id"] for r in rows})
    for row in rows:
        ids = row.get("invoice_ids")
        row["invoice_ids"] = [i for i in str(ids).replace(",", ";").split(";") if i.strip()] if ids else None
        row["currency"] = ccy.get(row["customer_id"])
    return rows


def _write_offs(book: dict[str, pd.DataFrame], session: Session) -> list[Row]:
    rows = _records(book["write_offs"], ["write_off_id", "invoice_id", "date", "amount"])
    ccy = _lookup_in(session, t.Invoice.currency, t.Invoice.invoice_id, {r["invoice_id"] for r in rows})
    for row in rows:
        row["write_off_id"] = row.get("write_off_id") or f"{row['invoice_id']}:{row['date']}"
        row["currency"] = ccy.get(row["invoice_id"])
        row["status"] = "approved"
    return rows


def _plain(name: str, columns: list[str]) -> Callable[[dict[str, pd.DataFrame], Session], list[Row]]:
    return lambda book, _s: _records(book[name], columns)


# (table, model, key columns, row builder), in foreign-key order
PLAN: list[tuple[str, type[t.Base], list[str], Callable[[dict[str, pd.DataFrame], Session], list[Row]]]] = [
    ("customers", t.Customer, ["customer_id"], _customers),
    (
        "fx_rates",
        t.FxRate,
        ["currency", "rate_date"],
        _plain("fx_rates", ["currency", "rate_date", "rate_to_base"]),
    ),
    (
        "invoices",
        t.Invoice,
        ["invoice_id"],
        _plain(
            "invoices",
            ["invoice_id", "customer_id", "invoice_number", "issue_date", "due_date", "amount", "currency"],
        ),
    ),
    (
        "payments",
        t.Payment,
        ["payment_id"],
        _plain(
            "payments",
            [
                "payment_id",
                "customer_id",
                "payment_date",
                "amount",
                "currency",
                "method",
                "reference",
                "payer_name",
                "payer_account",
            ],
        ),
    ),
    ("allocations", t.Allocation, ["allocation_id"], _allocations),
    (
        "credit_notes",
        t.CreditNote,
        ["credit_note_id"],
        _plain(
            "credit_notes",
            ["credit_note_id", "customer_id", "invoice_id", "issue_date", "amount", "currency", "reason"],
        ),
    ),
    ("disputes", t.Dispute, ["dispute_id"], _disputes),
    ("promises", t.Promise, ["promise_id"], _promises),
    ("write_offs", t.WriteOff, ["write_off_id"], _write_offs),
]


def write_book(
    engine: Engine, book: dict[str, pd.DataFrame], *, source: str, actor: str = "import"
) -> dict[str, dict[str, int]]:
    """All tables in one transaction: any failure leaves the store as it was."""
    counts: dict[str, dict[str, int]] = {}
    with session_scope(engine) as session:
        for name, model, keys, build in PLAN:
            counts[name] = _upsert(session, model, build(book, session), keys)
        _credit_limit_history(session, book["customers"])
        session.add(t.ImportBatch(source=source, counts=counts))
        record(session, actor=actor, action="import", entity="ledger", entity_id=source, after=counts)
    return counts


def _credit_limit_history(session: Session, customers: pd.DataFrame) -> None:
    """A history row whenever an import sets a customer's limit to a new value."""
    latest: dict[str, Decimal] = {}
    for cid, limit in session.execute(
        select(t.CreditLimitChange.customer_id, t.CreditLimitChange.credit_limit).order_by(
            t.CreditLimitChange.change_id
        )
    ).all():
        latest[cid] = limit
    rows = []
    for row in _records(customers, ["customer_id", "credit_limit", "currency", "created_at"]):
        limit = row["credit_limit"]
        if limit is None or (row["customer_id"] in latest and latest[row["customer_id"]].compare(limit) == 0):
            continue
        rows.append(
            {
                "customer_id": row["customer_id"],
                "credit_limit": limit,
                "currency": row["currency"],
                # a first limit counts from the customer's start; a changed one from this import
                "effective_date": dt.date.today()
                if row["customer_id"] in latest
                else (row["created_at"] or dt.date.today()),
                "source": "import",
            }
        )
    for chunk in _chunks(rows, 5000):
        session.execute(insert(t.CreditLimitChange), chunk)
