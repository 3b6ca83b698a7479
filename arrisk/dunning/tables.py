"""Dunning's own tables: runs, per-invoice decisions, messages, the delivery outbox, overrides."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from arrisk.store.tables import MONEY, Base

BIGID = BigInteger().with_variant(Integer, "sqlite")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class DunningRun(Base):
    """One engine run as of a date: who ran it, dry or not, the policies used, counts per action."""

    __tablename__ = "dunning_runs"
    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date, index=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    actor: Mapped[str] = mapped_column(String(64))
    dry_run: Mapped[bool] = mapped_column(Boolean)
    send: Mapped[bool] = mapped_column(Boolean)
    policies: Mapped[dict[str, Any]] = mapped_column(JSON)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)


class DunningDecision(Base):
    """What the engine decided for one invoice in one run (contact or not) and why."""

    __tablename__ = "dunning_decisions"
    decision_id: Mapped[int] = mapped_column(BIGID, primary_key=True)
    run_id: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[str] = mapped_column(String(64))
    invoice_id: Mapped[str] = mapped_column(String(64))
    policy: Mapped[str | None] = mapped_column(String(160))
    days_past_due: Mapped[int] = mapped_column(Integer)
    open_amount: Mapped[Decimal] = mapped_column(MONEY)
    last_level: Mapped[int | None] = mapped_column(Integer)
    level: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))  # contact | hold
    reason: Mapped[str] = mapped_column(String(32))
    fee_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    message_id: Mapped[str | None] = mapped_column(String(160))
    __table_args__ = (
        Index("ix_dunning_decisions_run", "run_id"),
        Index("ix_dunning_decisions_customer", "customer_id", "run_id"),
    )


class DunningMessage(Base):
    """The one message a run sends a customer, grouping every invoice contacted for them."""

    __tablename__ = "dunning_messages"
    message_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(64), index=True)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    as_of: Mapped[dt.date] = mapped_column(Date)
    level: Mapped[int] = mapped_column(Integer)
    template: Mapped[str] = mapped_column(String(160))
    language: Mapped[str] = mapped_column(String(8))
    invoices: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    __table_args__ = (UniqueConstraint("run_id", "customer_id", name="uq_dunning_message_run_customer"),)


class OutboxItem(Base):
    """One delivery of a message on one channel; pending/failed items are retried by the next send."""

    __tablename__ = "dunning_outbox"
    outbox_id: Mapped[int] = mapped_column(BIGID, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(160), index=True)
    customer_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))  # email | letter | call_task
    recipient: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    artifact: Mapped[str | None] = mapped_column(Text)  # letter PDF path
    __table_args__ = (UniqueConstraint("message_id", "channel", name="uq_dunning_outbox_message_channel"),)


class DunningOverride(Base):
    """A customer's own dunning rule: another policy, or no dunning until a date."""

    __tablename__ = "dunning_overrides"
    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    policy: Mapped[str | None] = mapped_column(String(160))
    blocked_until: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
