"""A small hand-built book in the store, and the open-amount rule every dunning decision rests on."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from arrisk.collections.book import open_amounts, read_book
from arrisk.store.db import session_scope
from arrisk.store.tables import Allocation, CreditNote, Customer, Invoice, Payment, WriteOff

D = dt.date


def add_customer(
    engine: Engine,
    customer_id: str,
    *,
    segment: str = "sme",
    language: str | None = "en",
    email: str | None = "ap@example.com",
) -> None:
    with session_scope(engine) as s:
        s.add(
            Customer(
                customer_id=customer_id,
                name=f"Customer {customer_id}",
                country="DE",
                currency="EUR",
                payment_terms_days=30,
                segment=segment,
                language=language,
                email=email,
            )
        )


def add_invoice(
    engine: Engine, invoice_id: str, customer_id: str, *, issue: dt.date, due: dt.date, amount: str | float
) -> None:
    with session_scope(engine) as s:
        s.add(
            Invoice(
                invoice_id=invoice_id,
                customer_id=customer_id,
                invoice_number=f"N{invoice_id}",
                issue_date=issue,
                due_date=due,
                amount=Decimal(str(amount)),
                currency="EUR",
            )
        )


def pay(
    engine: Engine,
    payment_id: str,
    invoice_id: str,
    *,
    day: dt.date,
    amount: str | float,
    reversed_at: dt.date | None = None,
) -> None:
    """A payment fully allocated to one invoice on its payment date."""
    with session_scope(engine) as s:
        inv = s.get(Invoice, invoice_id)
        assert inv is not None
        s.add(
            Payment(
                payment_id=payment_id,
                customer_id=inv.customer_id,
                payment_date=day,
                amount=Decimal(str(amount)),
                currency="EUR",
            )
        )
        s.flush()
        s.add(
            Allocation(
                allocation_id=f"A-{payment_id}",
                payment_id=payment_id,
                invoice_id=invoice_id,
                amount=Decimal(str(amount)),
                currency="EUR",
                applied_at=day,
                reversed_at=reversed_at,
            )
        )


def test_open_amount_as_of_counts_allocations_reversals_credit_notes_and_approved_write_offs(
    engine: Engine,
) -> None:
    add_customer(engine, "C1")
    add_invoice(engine, "I1", "C1", issue=D(2025, 1, 1), due=D(2025, 1, 31), amount="1000.00")
    pay(engine, "P1", "I1", day=D(2025, 2, 5), amount="300.00")
    pay(engine, "P2", "I1", day=D(2025, 2, 6), amount="100.00", reversed_at=D(2025, 2, 10))
    with session_scope(engine) as s:
        s.add(
            CreditNote(
                credit_note_id="CN1",
                customer_id="C1",
                invoice_id="I1",
                issue_date=D(2025, 2, 20),
                amount=Decimal("50.00"),
                currency="EUR",
            )
        )
        s.add(
            WriteOff(
                write_off_id="W1",
                invoice_id="I1",
                date=D(2025, 3, 1),
                amount=Decimal("200"),
                status="approved",
            )
        )
        s.add(
            WriteOff(
                write_off_id="W2",
                invoice_id="I1",
                date=D(2025, 3, 1),
                amount=Decimal("99"),
                status="requested",
            )
        )
    book = read_book(engine)
    expected = {
        D(2025, 1, 15): 1000,
        D(2025, 2, 5): 700,
        D(2025, 2, 6): 600,
        D(2025, 2, 10): 700,
        D(2025, 2, 20): 650,
        D(2025, 3, 1): 450,
    }
    for day, amount in expected.items():
        assert open_amounts(book, day)["I1"] == pytest.approx(amount), day
    assert "I1" not in open_amounts(book, D(2024, 12, 31)).index
