"""Cash-application tables: imported statements and the exceptions queue (Alembic branch 'cashapp').

Payments and allocations live in the ledger's own tables; a statement line becomes a payment whose
``bank_line_id`` is unique, which is what makes a second import of the same file post nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from arrisk.store.tables import CCY, MONEY, Base


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class BankStatement(Base):
    __tablename__ = "cashapp_statements"
    statement_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    format: Mapped[str] = mapped_column(String(16))
    account: Mapped[str | None] = mapped_column(String(64))
    bank_statement_id: Mapped[str | None] = mapped_column(String(128))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    actor: Mapped[str] = mapped_column(String(64))
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)


class CashAppException(Base):
    """A payment that was not (or no longer) applied automatically, with ranked suggestions."""

    __tablename__ = "cashapp_exceptions"
    exception_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    statement_id: Mapped[int | None] = mapped_column(
        ForeignKey("cashapp_statements.statement_id"), index=True
    )
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.payment_id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # suggested | unapplied | reversed
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open | resolved
    customer_id: Mapped[str | None] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(CCY)
    suggestions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[str | None] = mapped_column(String(64))
