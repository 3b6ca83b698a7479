"""The store read as frames (set-based, one query per table) and the open amount of every invoice.

Pure functions take a ``Book`` and an explicit ``as_of``: a fact dated after it is never seen.
In frames amounts are float64 and dates datetime64[ns]; the store keeps Decimal and DATE.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Engine, Float, Select, cast, select

from arrisk.store import tables as t

CENT = 0.005


@dataclass(frozen=True)
class Book:
    """The ledger facts the collections and dunning logic need, one frame per table."""

    customers: pd.DataFrame
    invoices: pd.DataFrame
    payments: pd.DataFrame
    allocations: pd.DataFrame
    credit_notes: pd.DataFrame
    write_offs: pd.DataFrame
    disputes: pd.DataFrame
    promises: pd.DataFrame
    plans: pd.DataFrame
    installments: pd.DataFrame
    dunning_events: pd.DataFrame


def money(column):  # type: ignore[no-untyped-def]
    """Read NUMERIC money as float in SQL: frames hold float64 and Decimal objects cost time per row."""
    return cast(column, Float).label(column.key)


def read_frame(
    engine: Engine, stmt: Select, *, dates: tuple[str, ...] = (), amounts: tuple[str, ...] = ()
) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.execute(stmt)
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    for col in dates:
        frame[col] = pd.to_datetime(frame[col])
    for col in amounts:
        frame[col] = pd.to_numeric(frame[col].astype(object), errors="coerce").astype("float64")
    return frame


def collection_records(engine: Engine, day: dt.date) -> dict[str, pd.DataFrame]:
    """Disputes, promises and payment plans made by ``day``, and the plans' installments."""
    return {
        "disputes": read_frame(
            engine,
            select(
                t.Dispute.dispute_id,
                t.Dispute.invoice_id,
                t.Dispute.customer_id,
                t.Dispute.opened_at,
                t.Dispute.resolved_at,
            ).where(t.Dispute.opened_at <= day),
            dates=("opened_at", "resolved_at"),
        ),
        "promises": read_frame(
            engine,
            select(
                t.Promise.promise_id,
                t.Promise.customer_id,
                t.Promise.created_at,
                t.Promise.promised_date,
                money(t.Promise.amount),
                t.Promise.invoice_ids,
            ).where(t.Promise.created_at <= day),
            dates=("created_at", "promised_date"),
            amounts=("amount",),
        ),
        "plans": read_frame(
            engine,
            select(
                t.PaymentPlan.plan_id,
                t.PaymentPlan.customer_id,
                t.PaymentPlan.created_at,
                t.PaymentPlan.invoice_ids,
                t.PaymentPlan.status,
                t.PaymentPlan.broken_at,
            ).where(t.PaymentPlan.created_at <= day),
            dates=("created_at", "broken_at"),
        ),
        "installments": read_frame(
            engine,
            select(
                t.PlanInstallment.plan_id,
                t.PlanInstallment.seq,
                t.PlanInstallment.due_date,
                money(t.PlanInstallment.amount),
            ),
            dates=("due_date",),
            amounts=("amount",),
        ),
    }


def read_book(engine: Engine, *, as_of: dt.date | None = None) -> Book:
    """Every table the rules need; facts dated after ``as_of`` are filtered out in SQL already."""
    day = as_of or dt.date.max

    def upto(col):  # type: ignore[no-untyped-def]
        return col <= day

    return Book(
        customers=read_frame(
            engine,
            select(
                t.Customer.customer_id,
                t.Customer.name,
                t.Customer.segment,
                t.Customer.language,
                t.Customer.email,
                t.Customer.currency,
                t.Customer.country,
            ),
        ),
        invoices=read_frame(
            engine,
            select(
                t.Invoice.invoice_id,
                t.Invoice.customer_id,
                t.Invoice.invoice_number,
                t.Invoice.issue_date,
                t.Invoice.due_date,
                money(t.Invoice.amount),
                t.Invoice.currency,
            ).where(upto(t.Invoice.issue_date)),
            dates=("issue_date", "due_date"),
            amounts=("amount",),
        ),
        payments=read_frame(
            engine,
            select(
                t.Payment.payment_id, t.Payment.customer_id, t.Payment.payment_date, money(t.Payment.amount)
            ).where(upto(t.Payment.payment_date)),
            dates=("payment_date",),
            amounts=("amount",),
        ),
        allocations=read_frame(
            engine,
            select(
                t.Allocation.invoice_id,
                money(t.Allocation.amount),
                t.Allocation.applied_at,
                t.Allocation.reversed_at,
            ).where(upto(t.Allocation.applied_at)),
            dates=("applied_at", "reversed_at"),
            amounts=("amount",),
        ),
        credit_notes=read_frame(
            engine,
            select(t.CreditNote.invoice_id, money(t.CreditNote.amount), t.CreditNote.issue_date).where(
                upto(t.CreditNote.issue_date), t.CreditNote.invoice_id.is_not(None)
            ),
            dates=("issue_date",),
            amounts=("amount",),
        ),
        write_offs=read_frame(
            engine,
            select(t.WriteOff.invoice_id, money(t.WriteOff.amount), t.WriteOff.date).where(
                upto(t.WriteOff.date), t.WriteOff.status == "approved"
            ),
            dates=("date",),
            amounts=("amount",),
        ),
        **collection_records(engine, day),
        dunning_events=read_frame(
            engine,
            select(
                t.DunningEvent.invoice_id,
                t.DunningEvent.customer_id,
                t.DunningEvent.level,
                t.DunningEvent.event_date,
                t.DunningEvent.run_id,
            ),
            dates=("event_date",),
        ),
    )


def live_allocations(allocations: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Allocations applied by ``as_of`` and not reversed by then."""
    day = pd.Timestamp(as_of)
    keep = (allocations["applied_at"] <= day) & (
        allocations["reversed_at"].isna() | (allocations["reversed_at"] > day)
    )
    return allocations.loc[keep]


def open_amounts(book: Book, as_of: dt.date) -> pd.Series:
    """Open amount per invoice as of the date: amount less allocations, credit notes and write-offs."""
    from arrisk.ledger.asof import settled_amounts

    day = pd.Timestamp(as_of)
    inv = book.invoices.loc[book.invoices["issue_date"] <= day].set_index("invoice_id")["amount"]
    out = inv.sub(settled_amounts(book, day), fill_value=0.0).reindex(inv.index).clip(lower=0.0).round(2)
    out.name = "open_amount"
    return out


def disputed_invoices(book: Book, as_of: dt.date) -> pd.Index:
    """Invoices with a dispute open on the date (opened by then, not yet resolved)."""
    day = pd.Timestamp(as_of)
    d = book.disputes
    open_ = (d["opened_at"] <= day) & (d["resolved_at"].isna() | (d["resolved_at"] > day))
    return pd.Index(d.loc[open_, "invoice_id"].unique(), name="invoice_id")


def explode_invoice_ids(frame: pd.DataFrame, key: str, invoices: pd.DataFrame, since: str) -> pd.DataFrame:
    """(key, invoice_id) pairs; a record without an invoice list covers the customer's invoices
    issued by its ``since`` date."""
    listed = frame[[key, "invoice_ids"]].explode("invoice_ids").dropna(subset=["invoice_ids"])
    listed = listed.rename(columns={"invoice_ids": "invoice_id"})
    empty = frame.loc[frame["invoice_ids"].map(lambda v: not v), [key, "customer_id", since]]
    whole = empty.merge(invoices[["invoice_id", "customer_id", "issue_date"]], on="customer_id")
    whole = whole.loc[whole["issue_date"] <= whole[since], [key, "invoice_id"]]
    return pd.concat([listed[[key, "invoice_id"]], whole], ignore_index=True)
