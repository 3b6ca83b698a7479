"""Cash application against the real store (SQLite and PostgreSQL): posting, idempotency, atomicity."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select

from arrisk.cashapp import service
from arrisk.cashapp.service import import_statement, list_exceptions, resolve_exception, reverse_allocation
from arrisk.cashapp.tables import BankStatement, CashAppException
from arrisk.errors import ConflictError, ValidationError
from arrisk.store.db import session_scope
from arrisk.store.tables import Allocation, AuditLog, CreditNote, Customer, Invoice, Payment, WriteOff

CAMT_IBAN = "DE02120300000000202051"  # the receiving account in fixtures/statements/camt053.xml
FIXTURES = Path(__file__).parent / "fixtures" / "statements"


def seed(engine: Engine) -> None:
    """The fixture book: invoice I203 is partly paid by a manual allocation, CN-2025-00204 is unlinked."""
    customers = pd.read_csv(FIXTURES / "customers.csv", dtype=str)
    invoices = pd.read_csv(FIXTURES / "open_invoices.csv", dtype=str)
    with session_scope(engine) as s:
        for c in customers.itertuples():
            s.add(
                Customer(
                    customer_id=c.customer_id,
                    name=c.name,
                    country=c.country,
                    currency=c.currency,
                    payment_terms_days=int(c.payment_terms_days),
                    credit_limit=Decimal(c.credit_limit),
                )
            )
        s.flush()
        for i in invoices.itertuples():
            if i.invoice_number.startswith("CN-"):
                s.add(
                    CreditNote(
                        credit_note_id=i.invoice_number,
                        customer_id=i.customer_id,
                        issue_date=dt.date.fromisoformat(i.issue_date),
                        amount=-Decimal(i.amount),
                        currency="EUR",
                    )
                )
                continue
            s.add(
                Invoice(
                    invoice_id=i.invoice_id,
                    customer_id=i.customer_id,
                    invoice_number=i.invoice_number,
                    issue_date=dt.date.fromisoformat(i.issue_date),
                    due_date=dt.date.fromisoformat(i.due_date),
                    amount=Decimal(i.amount),
                    currency="EUR",
                )
            )
        s.flush()
        s.add(
            Payment(
                payment_id="P-MAN",
                customer_id="C002",
                payment_date=dt.date(2025, 2, 20),
                amount=Decimal("200.50"),
                currency="EUR",
            )
        )
        s.flush()
        s.add(
            Allocation(
                allocation_id="A-MAN",
                payment_id="P-MAN",
                invoice_id="I203",
                amount=Decimal("200.50"),
                currency="EUR",
                applied_at=dt.date(2025, 2, 20),
                source="manual",
            )
        )


def snapshot(engine: Engine) -> dict[str, object]:
    with session_scope(engine) as s:
        out: dict[str, object] = {
            t.__name__: s.scalar(select(func.count()).select_from(t))
            for t in (Payment, Allocation, CashAppException, BankStatement, WriteOff, AuditLog)
        }
        out["allocated"] = str(s.scalar(select(func.coalesce(func.sum(Allocation.amount), 0))))
        out["credit_note_links"] = sorted(
            (c.credit_note_id, c.invoice_id or "") for c in s.scalars(select(CreditNote))
        )
        out["manual"] = [
            (a.allocation_id, str(a.amount), a.reversed_at)
            for a in s.scalars(select(Allocation).where(Allocation.source == "manual"))
        ]
    return out


@pytest.fixture
def book(engine: Engine) -> Engine:
    seed(engine)
    return engine


def test_apply_posts_payments_allocations_and_exceptions(book: Engine) -> None:
    result = import_statement(book, (FIXTURES / "camt053.xml").read_bytes(), "camt053.xml", actor="alice")
    assert (result.credits, result.auto, result.suggested, result.unapplied) == (5, 3, 1, 1)
    assert result.statuses == {
        "BK-0001": "auto",
        "BK-0002": "auto",
        "BK-0003": "auto",
        "BK-0004": "suggested",
        "BK-0005": "unapplied",
    }
    with session_scope(book) as s:
        autos = {a.invoice_id: a for a in s.scalars(select(Allocation).where(Allocation.source == "auto"))}
        assert {k: str(a.amount) for k, a in autos.items()} == {
            "I101": "1190.00",
            "I201": "2200.00",
            "I202": "1200.50",
            "I203": "799.50",
            "I301": "4409.99",
        }
        assert all(a.confidence and a.confidence >= 0.95 and a.rule for a in autos.values())
        assert s.get(CreditNote, "CN-2025-00204").invoice_id == "I201"
        assert [(w.invoice_id, str(w.amount)) for w in s.scalars(select(WriteOff))] == [("I301", "0.01")]
        lines = {p.bank_line_id for p in s.scalars(select(Payment).where(Payment.bank_line_id.is_not(None)))}
        assert lines == {f"DE02120300000000202051:BK-000{i}" for i in range(1, 6)}
        kinds = sorted(e.kind for e in s.scalars(select(CashAppException)))
        assert kinds == ["suggested", "unapplied"]
        actions = set(s.scalars(select(AuditLog.action)))
        assert {
            "cashapp.payment",
            "cashapp.auto_allocation",
            "cashapp.exception",
            "cashapp.import_statement",
        } <= actions
    assert snapshot(book)["manual"] == [("A-MAN", "200.50", None)]


def test_the_same_statement_twice_posts_nothing_twice(book: Engine) -> None:
    import_statement(book, (FIXTURES / "camt053.xml").read_bytes(), "camt053.xml", actor="alice")
    before = snapshot(book)
    again = import_statement(book, (FIXTURES / "camt053.xml").read_bytes(), "camt053.xml", actor="alice")
    # the same bank lines in another format (same account, same references) are recognised too
    other = import_statement(book, (FIXTURES / "mt940.sta").read_bytes(), "mt940.sta", actor="bob")
    assert (again.already_imported, again.payments, other.already_imported, other.payments) == (5, 0, 5, 0)
    assert snapshot(book) == before


def test_a_csv_export_with_its_account_configured_is_recognised_after_camt053(book: Engine) -> None:
    from arrisk.cashapp.policy import load_policy

    policy = load_policy()
    policy = policy.model_copy(update={"csv": policy.csv.model_copy(update={"own_account": CAMT_IBAN})})
    import_statement(book, (FIXTURES / "camt053.xml").read_bytes(), "camt053.xml", actor="alice")
    before = snapshot(book)
    csv = import_statement(
        book, (FIXTURES / "statement.csv").read_bytes(), "statement.csv", actor="bob", policy=policy
    )
    assert csv.payments == 0 and csv.already_imported > 0
    assert snapshot(book) == before
    # without the account the CSV lines cannot be told apart from another account's: they post
    unscoped = import_statement(book, (FIXTURES / "statement.csv").read_bytes(), "statement.csv", actor="bob")
    assert unscoped.payments > 0


def test_a_failure_after_partial_writes_leaves_the_ledger_as_before(book: Engine, monkeypatch) -> None:
    before = snapshot(book)
    real, calls = service.post_line, []

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(real(*args, **kwargs))
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return calls[-1]

    monkeypatch.setattr(service, "post_line", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        import_statement(book, (FIXTURES / "camt053.xml").read_bytes(), "camt053.xml", actor="alice")
    assert len(calls) == 3
    assert snapshot(book) == before


KILLED_IMPORT = textwrap.dedent("""
    import sys, time
    from arrisk.cashapp import service
    from arrisk.store.db import make_engine
    real = service.post_line
    done = []
    def slow(*a, **k):
        done.append(real(*a, **k))
        a[0].flush()
        if len(done) == 2:
            print("PARTIAL", flush=True)
            time.sleep(120)
        return done[-1]
    service.post_line = slow
    service.import_statement(make_engine(sys.argv[1]), open(sys.argv[2], "rb").read(), "s.xml", actor="x")
""")


def test_killing_apply_mid_transaction_leaves_the_ledger_as_before(book: Engine) -> None:
    before = snapshot(book)
    url = book.url.render_as_string(hide_password=False)
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_IMPORT, url, str(FIXTURES / "camt053.xml")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "PARTIAL", proc.stderr.read() if proc.stderr else ""
    finally:
        proc.kill()
        proc.wait(timeout=30)
    book.dispose()
    assert snapshot(book) == before


def test_exceptions_are_listed_resolved_and_automatic_allocations_reversed(book: Engine) -> None:
    import_statement(book, (FIXTURES / "camt053.xml").read_bytes(), "camt053.xml", actor="alice")
    page = list_exceptions(book)
    assert page["total"] == 2
    suggested = next(i for i in page["items"] if i["kind"] == "suggested")
    assert suggested["suggestions"][0]["allocations"] == [
        {"invoice_id": "I302", "amount": "330.00", "currency": "EUR"}
    ]
    with pytest.raises(ValidationError, match="exceed"):
        resolve_exception(
            book, suggested["exception_id"], invoice_allocations={"I401": Decimal("331.00")}, actor="bob"
        )
    done = resolve_exception(
        book, suggested["exception_id"], invoice_allocations={"I401": Decimal("330.00")}, actor="bob"
    )
    assert done["status"] == "resolved" and list_exceptions(book)["total"] == 1
    with pytest.raises(ConflictError):
        resolve_exception(book, suggested["exception_id"], invoice_allocations={}, actor="bob")
    with pytest.raises(ConflictError, match="manual"):
        reverse_allocation(book, done["allocation_ids"][0], actor="bob")
    with session_scope(book) as s:
        auto_id = s.scalar(select(Allocation.allocation_id).where(Allocation.invoice_id == "I101"))
    out = reverse_allocation(book, auto_id, actor="bob")
    with session_scope(book) as s:
        alloc = s.get(Allocation, auto_id)
        assert (alloc.reversed_at, alloc.reversed_by) == (dt.date.today(), "bob")
        assert s.get(CashAppException, out["exception_id"]).kind == "reversed"
    with pytest.raises(ConflictError, match="already reversed"):
        reverse_allocation(book, auto_id, actor="bob")


def test_malformed_statement_is_refused_before_anything_is_written(book: Engine) -> None:
    before = snapshot(book)
    from arrisk.cashapp.statement import StatementFormatError

    with pytest.raises(StatementFormatError, match="Ntry\\[3\\]/Amt"):
        import_statement(
            book, (FIXTURES / "camt053_missing_amount.xml").read_bytes(), "bad.xml", actor="alice"
        )
    assert snapshot(book) == before
