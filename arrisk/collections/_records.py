"""Shared checks of the collector record services: the customer and invoices exist and match."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from arrisk.errors import NotFoundError, ValidationError
from arrisk.store.tables import Customer, Invoice


def get_customer(session: Session, customer_id: str) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFoundError(f"customer {customer_id!r} not found")
    return customer


def customer_invoices(session: Session, customer_id: str, invoice_ids: list[str]) -> list[Invoice]:
    """The listed invoices, each checked to exist and to belong to the customer."""
    if len(set(invoice_ids)) != len(invoice_ids):
        raise ValidationError(f"invoice_ids: duplicates in {invoice_ids}")
    found = {
        i.invoice_id: i for i in session.scalars(select(Invoice).where(Invoice.invoice_id.in_(invoice_ids)))
    }
    for invoice_id in invoice_ids:
        invoice = found.get(invoice_id)
        if invoice is None:
            raise NotFoundError(f"invoice {invoice_id!r} not found")
        if invoice.customer_id != customer_id:
            raise ValidationError(
                f"invoice {invoice_id!r} belongs to customer {invoice.customer_id!r}, not {customer_id!r}"
            )
    return [found[i] for i in invoice_ids]


def today() -> dt.date:
    return dt.date.today()
