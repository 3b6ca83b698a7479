"""The AR ledger schema (SQLAlchemy 2 ORM).

Every business fact keeps the date it happened (issue, payment, allocation, reversal, dispute
opened/resolved, promise made, write-off), so any state can be rebuilt *as of* a past date.
Money is NUMERIC(18, 2) read back as ``Decimal``, always next to its ISO currency code.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

MONEY = Numeric(18, 2, asdecimal=True)
RATE = Numeric(18, 8, asdecimal=True)
CCY = String(3)


class Base(DeclarativeBase):
    pass


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Customer(Base):
    __tablename__ = "customers"
    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(CCY)
    payment_terms_days: Mapped[int] = mapped_column(Integer)
    credit_limit: Mapped[Decimal | None] = mapped_column(MONEY)
    segment: Mapped[str | None] = mapped_column(String(40), index=True)
    collector_id: Mapped[str | None] = mapped_column(String(64), index=True)
    language: Mapped[str | None] = mapped_column(String(8))
    email: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.date | None] = mapped_column(Date)


class FxRate(Base):
    """Units of base currency for one unit of ``currency`` from ``rate_date`` on."""

    __tablename__ = "fx_rates"
    currency: Mapped[str] = mapped_column(CCY, primary_key=True)
    rate_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    rate_to_base: Mapped[Decimal] = mapped_column(RATE)


class Invoice(Base):
    __tablename__ = "invoices"
    invoice_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    invoice_number: Mapped[str] = mapped_column(String(64), index=True)
    issue_date: Mapped[dt.date] = mapped_column(Date, index=True)
    due_date: Mapped[dt.date] = mapped_column(Date, index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(CCY)


class Payment(Base):
    __tablename__ = "payments"
    payment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    payment_date: Mapped[dt.date] = mapped_column(Date, index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(CCY)
    method: Mapped[str | None] = mapped_column(String(32))
    reference: Mapped[str | None] = mapped_column(Text)
    payer_name: Mapped[str | None] = mapped_column(String(200))
    payer_account: Mapped[str | None] = mapped_column(String(64), index=True)
    bank_line_id: Mapped[str | None] = mapped_column(String(128), unique=True)


class Allocation(Base):
    """Payment → invoice. Reversal keeps the row and dates it, so history stays reconstructible."""

    __tablename__ = "allocations"
    allocation_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.payment_id"), index=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.invoice_id"), index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(CCY)
    applied_at: Mapped[dt.date] = mapped_column(Date, index=True)
    source: Mapped[str] = mapped_column(String(16), default="manual")  # auto | manual | import
    confidence: Mapped[float | None] = mapped_column(Numeric(6, 4, asdecimal=False))
    rule: Mapped[str | None] = mapped_column(String(64))
    reversed_at: Mapped[dt.date | None] = mapped_column(Date)
    reversed_by: Mapped[str | None] = mapped_column(String(64))


class CreditNote(Base):
    __tablename__ = "credit_notes"
    credit_note_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    invoice_id: Mapped[str | None] = mapped_column(ForeignKey("invoices.invoice_id"), index=True)
    issue_date: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(CCY)
    reason: Mapped[str | None] = mapped_column(String(200))


class Dispute(Base):
    __tablename__ = "disputes"
    dispute_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.invoice_id"), index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    opened_at: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(64))
    amount: Mapped[Decimal | None] = mapped_column(MONEY)
    owner: Mapped[str | None] = mapped_column(String(64))
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | resolved
    resolved_at: Mapped[dt.date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(32))  # credit_note | rejected | withdrawn


class Promise(Base):
    __tablename__ = "promises"
    promise_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    created_at: Mapped[dt.date] = mapped_column(Date)
    promised_date: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str | None] = mapped_column(CCY)
    invoice_ids: Mapped[list[str] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | kept | partly_kept | broken


class PaymentPlan(Base):
    __tablename__ = "payment_plans"
    plan_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    created_at: Mapped[dt.date] = mapped_column(Date)
    invoice_ids: Mapped[list[str] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="current")  # current | completed | broken
    broken_at: Mapped[dt.date | None] = mapped_column(Date)


class PlanInstallment(Base):
    __tablename__ = "plan_installments"
    plan_id: Mapped[str] = mapped_column(ForeignKey("payment_plans.plan_id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    due_date: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(MONEY)


class Activity(Base):
    __tablename__ = "activities"
    activity_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # call | email | letter | note
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    outcome: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    next_follow_up: Mapped[dt.date | None] = mapped_column(Date)
    user_id: Mapped[str | None] = mapped_column(String(64))


class DunningEvent(Base):
    """One reminder level sent (or attempted) for one invoice."""

    __tablename__ = "dunning_events"
    event_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    run_id: Mapped[str | None] = mapped_column(String(64), index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.invoice_id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))
    event_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="sent")  # sent | failed | pending
    __table_args__ = (UniqueConstraint("invoice_id", "level", name="uq_dunning_invoice_level"),)


class WriteOff(Base):
    __tablename__ = "write_offs"
    write_off_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.invoice_id"), index=True)
    date: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str | None] = mapped_column(CCY)
    status: Mapped[str] = mapped_column(String(16), default="approved")  # requested | approved | rejected
    requested_by: Mapped[str | None] = mapped_column(String(64))
    approved_by: Mapped[str | None] = mapped_column(String(64))
    recovery_status: Mapped[str | None] = mapped_column(String(16))  # none | pursuing | recovered


class CreditLimitChange(Base):
    __tablename__ = "credit_limit_history"
    change_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    effective_date: Mapped[dt.date] = mapped_column(Date)
    credit_limit: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(CCY)
    source: Mapped[str] = mapped_column(String(32))  # import | recommendation | override
    decided_by: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)


class AuditLog(Base):
    """Append-only: who did what, when, with the row before and after (triggers refuse edits)."""

    __tablename__ = "audit_log"
    audit_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(160))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)


class ImportBatch(Base):
    """One `arrisk import` or dataset import: what came in, from where, how many rows."""

    __tablename__ = "import_batches"
    batch_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    source: Mapped[str] = mapped_column(Text)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)
