"""Statement imports, exceptions with suggestions, manual resolutions and reversals."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field


class LineStatus(enum.StrEnum):
    auto = "auto"
    suggested = "suggested"
    unapplied = "unapplied"


class StatementImport(BaseModel):
    """What one upload did; a second upload of the same file posts nothing (``already_imported``)."""

    statement_id: int | None
    format: str = Field(description="camt053 | bai2 | mt940 | csv")
    lines: int
    credits: int
    already_imported: int = Field(description="credit lines posted by an earlier import, skipped")
    auto: int
    suggested: int
    unapplied: int
    payments: int
    allocations: int
    exceptions: int
    write_offs: int
    statuses: dict[str, LineStatus] = Field(description="statement line -> how it was applied")


class ExceptionStatus(enum.StrEnum):
    open = "open"
    resolved = "resolved"
    all = "all"


class CashAppExceptionItem(BaseModel):
    exception_id: int
    statement_id: int | None
    payment_id: str
    kind: str = Field(description="suggested | unapplied | reversed")
    status: str
    customer_id: str | None
    amount: Decimal = Field(description="the payment's amount still to apply")
    currency: str
    suggestions: list[dict[str, Any]] = Field(description="ranked: allocations, rule, confidence")
    created_at: dt.datetime | None
    resolved_at: dt.datetime | None
    resolved_by: str | None
    payment_date: dt.date
    reference: str | None
    payer_name: str | None
    bank_line_id: str | None


class CashAppExceptionPage(BaseModel):
    items: list[CashAppExceptionItem]
    total: int
    limit: int
    offset: int


class ManualAllocation(BaseModel):
    invoice_id: str = Field(min_length=1, max_length=64)
    amount: Decimal = Field(gt=0, max_digits=18, decimal_places=2)


class ResolutionRequest(BaseModel):
    allocations: list[ManualAllocation] = Field(
        max_length=500, description="invoices to apply the payment to; empty closes the item unapplied"
    )


class Resolution(BaseModel):
    exception_id: int
    status: str
    allocation_ids: list[str]


class Reversal(BaseModel):
    allocation_id: str
    reversed_at: dt.date
    exception_id: int = Field(description="the new queue item for the payment")
