"""Collector records in the store (SQLite and PostgreSQL): each change audited, each rule enforced."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select

from arrisk.collections.activities import list_activities, log_activity
from arrisk.collections.actor import Actor
from arrisk.collections.book import open_amounts, read_book
from arrisk.collections.disputes import open_dispute, resolve_dispute
from arrisk.collections.schemas import (
    ActivityIn,
    ActivityKind,
    DisputeIn,
    DisputeOutcome,
    DisputeResolution,
    RecoveryStatus,
    WriteOffIn,
)
from arrisk.collections.writeoffs import (
    approve_write_off,
    reject_write_off,
    request_write_off,
    set_recovery_status,
)
from arrisk.errors import ConflictError, NotFoundError, PermissionDenied, ValidationError
from arrisk.store.db import session_scope
from arrisk.store.tables import AuditLog, Dispute
from tests.test_dunning_book import add_customer, add_invoice

D = dt.date
ANN = Actor("ann", "collector")
BOB = Actor("bob", "credit_analyst")
ADA = Actor("ada", "admin")


@pytest.fixture
def book(engine: Engine) -> Engine:
    add_customer(engine, "C1")
    add_customer(engine, "C2")
    add_invoice(engine, "I1", "C1", issue=D(2025, 1, 1), due=D(2025, 1, 31), amount="1000")
    add_invoice(engine, "I2", "C1", issue=D(2025, 1, 1), due=D(2025, 1, 31), amount="400")
    add_invoice(engine, "X1", "C2", issue=D(2025, 1, 1), due=D(2025, 1, 31), amount="100")
    return engine


def audit_actions(engine: Engine, entity: str) -> list[tuple[str, str]]:
    with session_scope(engine) as s:
        rows = s.execute(
            select(AuditLog.actor, AuditLog.action)
            .where(AuditLog.entity == entity)
            .order_by(AuditLog.audit_id)
        ).all()
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_dispute_on_two_invoices_resolved_by_credit_note_lowers_open_amount(book: Engine) -> None:
    opened = open_dispute(
        book,
        "C1",
        DisputeIn(
            invoice_ids=["I1", "I2"],
            reason="quality",
            owner="bob",
            deadline=D(2025, 3, 1),
            opened_at=D(2025, 2, 3),
        ),
        actor=ANN,
    )
    assert [d.invoice_id for d in opened] == ["I1", "I2"] and all(d.status == "open" for d in opened)
    done = resolve_dispute(
        book,
        opened[0].dispute_id,
        DisputeResolution(
            outcome=DisputeOutcome.credit_note, credit_amount=Decimal("250"), resolved_at=D(2025, 2, 20)
        ),
        actor=ANN,
    )
    assert (done.status, done.outcome, done.resolved_at) == ("resolved", "credit_note", D(2025, 2, 20))
    amounts = open_amounts(read_book(book), D(2025, 2, 20))
    assert amounts["I1"] == pytest.approx(750.0) and amounts["I2"] == pytest.approx(400.0)
    with pytest.raises(ConflictError, match="already resolved"):
        resolve_dispute(
            book, opened[0].dispute_id, DisputeResolution(outcome=DisputeOutcome.withdrawn), actor=ANN
        )
    assert audit_actions(book, "disputes") == [("ann", "dispute.open")] * 2 + [("ann", "dispute.resolve")]
    assert audit_actions(book, "credit_notes") == [("ann", "credit_note.create")]
    with session_scope(book) as s:
        entry = s.scalars(select(AuditLog).where(AuditLog.action == "dispute.resolve")).one()
        assert entry.before["status"] == "open" and entry.after["status"] == "resolved"
        assert s.get(Dispute, opened[1].dispute_id).status == "open"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("customer", "invoices", "error", "message"),
    [
        ("C1", ["X1"], ValidationError, "belongs to customer 'C2'"),
        ("C1", ["NOPE"], NotFoundError, "invoice 'NOPE' not found"),
        ("C9", ["I1"], NotFoundError, "customer 'C9' not found"),
        ("C1", ["I1", "I1"], ValidationError, "duplicates"),
    ],
)
def test_dispute_refuses_foreign_or_unknown_invoices(
    book: Engine, customer: str, invoices: list[str], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        open_dispute(book, customer, DisputeIn(invoice_ids=invoices, reason="price"), actor=ANN)
    assert audit_actions(book, "disputes") == []


def test_viewer_cannot_write_records(book: Engine) -> None:
    with pytest.raises(PermissionDenied, match="role 'viewer'"):
        open_dispute(book, "C1", DisputeIn(invoice_ids=["I1"], reason="price"), actor=Actor("v", "viewer"))


def test_activity_log_with_follow_up(book: Engine) -> None:
    when = dt.datetime(2025, 2, 10, 9, 30, tzinfo=dt.UTC)
    log_activity(
        book,
        "C1",
        ActivityIn(
            kind=ActivityKind.call,
            outcome="reached",
            note="will pay Friday",
            next_follow_up=D(2025, 2, 14),
            occurred_at=when,
        ),
        actor=ANN,
    )
    log_activity(
        book,
        "C1",
        ActivityIn(kind=ActivityKind.note, note="asked for copy", occurred_at=when + dt.timedelta(hours=1)),
        actor=ANN,
    )
    items = list_activities(book, "C1")
    assert [i.kind for i in items] == ["note", "call"] and items[1].next_follow_up == D(2025, 2, 14)
    assert items[1].user_id == "ann"
    with pytest.raises(ValidationError, match="next_follow_up 2025-02-01 is before"):
        log_activity(
            book, "C1", ActivityIn(kind="email", next_follow_up=D(2025, 2, 1), occurred_at=when), actor=ANN
        )
    assert audit_actions(book, "activities") == [("ann", "activity.create")] * 2


def test_write_off_needs_a_second_approver_and_only_approved_counts(book: Engine) -> None:
    req = request_write_off(
        book,
        WriteOffIn(
            invoice_id="I2",
            amount=Decimal("300"),
            date=D(2025, 6, 1),
            recovery_status=RecoveryStatus.pursuing,
        ),
        actor=BOB,
    )
    assert req.status == "requested"
    assert open_amounts(read_book(book), D(2025, 6, 2))["I2"] == pytest.approx(400.0)
    with pytest.raises(PermissionDenied, match="bob requested it and cannot approve"):
        approve_write_off(book, req.write_off_id, actor=BOB)
    with pytest.raises(PermissionDenied, match="role 'collector'"):
        approve_write_off(book, req.write_off_id, actor=ANN)
    done = approve_write_off(book, req.write_off_id, actor=ADA)
    assert (done.status, done.approved_by, done.recovery_status) == ("approved", "ada", "pursuing")
    assert open_amounts(read_book(book), D(2025, 6, 2))["I2"] == pytest.approx(100.0)
    assert open_amounts(read_book(book), D(2025, 5, 31))["I2"] == pytest.approx(400.0)
    with pytest.raises(ConflictError, match="only a requested one"):
        reject_write_off(book, req.write_off_id, actor=ADA)
    assert (
        set_recovery_status(book, req.write_off_id, RecoveryStatus.recovered, actor=ANN).recovery_status
        == "recovered"
    )
    with pytest.raises(ValidationError, match="exceeds invoice I2 open amount 100"):
        request_write_off(book, WriteOffIn(invoice_id="I2", amount=Decimal("150")), actor=BOB)
    assert [a for _, a in audit_actions(book, "write_offs")] == [
        "write_off.request",
        "write_off.approve",
        "write_off.recovery",
    ]


def test_rejected_write_off_frees_the_amount(book: Engine) -> None:
    req = request_write_off(book, WriteOffIn(invoice_id="X1", amount=Decimal("100")), actor=ANN)
    with pytest.raises(ValidationError, match="exceeds"):
        request_write_off(book, WriteOffIn(invoice_id="X1", amount=Decimal("1")), actor=ANN)
    assert reject_write_off(book, req.write_off_id, actor=BOB).status == "rejected"
    assert (
        request_write_off(book, WriteOffIn(invoice_id="X1", amount=Decimal("1")), actor=ANN).status
        == "requested"
    )
