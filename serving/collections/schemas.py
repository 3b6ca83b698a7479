"""API request bodies of the collector records: the service's schemas with the API's bounds.

Outputs are ``arrisk.collections.schemas`` as they are. Requests add limits the store needs on every
backend (dates pandas can read back, money that fits NUMERIC(18,2), column lengths).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import Field, field_validator

from arrisk.collections.schemas import (
    ActivityIn,
    DisputeIn,
    DisputeResolution,
    InstallmentIn,
    PaymentPlanIn,
    PromiseIn,
    RecoveryStatus,
    WriteOffIn,
)

# Dates outside this window cannot be read back as datetime64[ns] by the dunning and feature code.
Day = Annotated[dt.date, Field(ge=dt.date(1900, 1, 1), le=dt.date(2199, 12, 31))]
Amount = Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=2)]
EntityId = Annotated[str, Field(min_length=1, max_length=64)]
InvoiceIds = Annotated[list[EntityId], Field(max_length=1000)]


class PromiseRequest(PromiseIn):
    amount: Amount
    promised_date: Day
    invoice_ids: InvoiceIds = Field(
        default_factory=list, description="empty: every open invoice of the customer"
    )
    created_at: Day | None = Field(default=None, description="the day the promise was made; today if unset")
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$", description="the customer's if unset")


class DisputeRequest(DisputeIn):
    invoice_ids: InvoiceIds = Field(min_length=1)
    amount: Amount | None = None
    owner: str | None = Field(default=None, max_length=64, description="the caller if unset")
    deadline: Day | None = None
    opened_at: Day | None = None


class DisputeResolutionRequest(DisputeResolution):
    resolved_at: Day | None = None
    credit_amount: Amount | None = Field(default=None, description="credit_note only: the credit issued")


class InstallmentRequest(InstallmentIn):
    due_date: Day
    amount: Amount


class PaymentPlanRequest(PaymentPlanIn):
    invoice_ids: InvoiceIds = Field(min_length=1)
    installments: list[InstallmentRequest] = Field(min_length=1, max_length=120)  # type: ignore[assignment]
    created_at: Day | None = None


class ActivityRequest(ActivityIn):
    outcome: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, max_length=10_000)
    next_follow_up: Day | None = None
    occurred_at: dt.datetime | None = Field(
        default=None, description="now if unset; a time without zone is UTC"
    )

    @field_validator("occurred_at")
    @classmethod
    def _utc_within_window(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is None:
            return None
        value = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        if not 1900 <= value.year <= 2199:
            raise ValueError(f"occurred_at {value.isoformat()} is outside the years 1900-2199")
        return value


class WriteOffRequest(WriteOffIn):
    invoice_id: EntityId
    amount: Amount
    date: Day | None = Field(default=None, description="today if unset")
    recovery_status: RecoveryStatus = RecoveryStatus.none
