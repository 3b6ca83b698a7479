"""Input and output schemas of the collector records (the API wraps these as they are)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class PromiseState(StrEnum):
    open = "open"
    kept = "kept"
    partly_kept = "partly_kept"
    broken = "broken"


class DisputeStatus(StrEnum):
    open = "open"
    resolved = "resolved"


class DisputeOutcome(StrEnum):
    credit_note = "credit_note"
    rejected = "rejected"
    withdrawn = "withdrawn"


class PlanStatus(StrEnum):
    current = "current"
    completed = "completed"
    broken = "broken"


class ActivityKind(StrEnum):
    call = "call"
    email = "email"
    letter = "letter"
    note = "note"


class WriteOffStatus(StrEnum):
    requested = "requested"
    approved = "approved"
    rejected = "rejected"


class RecoveryStatus(StrEnum):
    none = "none"
    pursuing = "pursuing"
    recovered = "recovered"


Money = Decimal


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PromiseIn(BaseModel):
    amount: Money = Field(gt=0, decimal_places=2)
    promised_date: dt.date
    invoice_ids: list[str] = Field(
        default_factory=list, description="empty: every open invoice of the customer"
    )
    created_at: dt.date | None = Field(
        default=None, description="the day the promise was made; today if unset"
    )
    currency: str | None = None


class PromiseOut(_Out):
    promise_id: str
    customer_id: str
    created_at: dt.date
    promised_date: dt.date
    amount: Money
    currency: str | None
    invoice_ids: list[str] | None
    status: PromiseState


class DisputeIn(BaseModel):
    invoice_ids: list[str] = Field(min_length=1)
    reason: str = Field(min_length=1, max_length=64, description="reason code, e.g. price, quantity, quality")
    amount: Money | None = Field(default=None, gt=0)
    owner: str | None = None
    deadline: dt.date | None = None
    opened_at: dt.date | None = None


class DisputeOut(_Out):
    dispute_id: str
    invoice_id: str
    customer_id: str
    opened_at: dt.date
    reason: str | None
    amount: Money | None
    owner: str | None
    deadline: dt.date | None
    status: DisputeStatus
    resolved_at: dt.date | None
    outcome: DisputeOutcome | None


class DisputeResolution(BaseModel):
    outcome: DisputeOutcome
    resolved_at: dt.date | None = None
    credit_amount: Money | None = Field(default=None, gt=0, description="credit_note only: the credit issued")

    @model_validator(mode="after")
    def _credit_only_with_credit_note(self) -> DisputeResolution:
        if self.credit_amount is not None and self.outcome != DisputeOutcome.credit_note:
            raise ValueError(f"credit_amount is only allowed with outcome credit_note, not {self.outcome}")
        return self


class InstallmentIn(BaseModel):
    due_date: dt.date
    amount: Money = Field(gt=0)


class PaymentPlanIn(BaseModel):
    invoice_ids: list[str] = Field(min_length=1)
    installments: list[InstallmentIn] = Field(min_length=1)
    created_at: dt.date | None = None

    @model_validator(mode="after")
    def _installments_in_order(self) -> PaymentPlanIn:
        dates = [i.due_date for i in self.installments]
        if dates != sorted(dates) or len(set(dates)) != len(dates):
            raise ValueError(f"installments: due dates must be strictly increasing, got {dates}")
        return self


class InstallmentOut(_Out):
    seq: int
    due_date: dt.date
    amount: Money


class PaymentPlanOut(_Out):
    plan_id: str
    customer_id: str
    created_at: dt.date
    invoice_ids: list[str] | None
    status: PlanStatus
    broken_at: dt.date | None
    installments: list[InstallmentOut]


class ActivityIn(BaseModel):
    kind: ActivityKind
    outcome: str | None = Field(default=None, max_length=64)
    note: str | None = None
    next_follow_up: dt.date | None = None
    occurred_at: dt.datetime | None = None


class ActivityOut(_Out):
    activity_id: int
    customer_id: str
    kind: ActivityKind
    occurred_at: dt.datetime
    outcome: str | None
    note: str | None
    next_follow_up: dt.date | None
    user_id: str | None


class WriteOffIn(BaseModel):
    invoice_id: str
    amount: Money = Field(gt=0)
    date: dt.date | None = None
    recovery_status: RecoveryStatus = RecoveryStatus.none


class WriteOffOut(_Out):
    write_off_id: str
    invoice_id: str
    date: dt.date
    amount: Money
    currency: str | None
    status: WriteOffStatus
    requested_by: str | None
    approved_by: str | None
    recovery_status: RecoveryStatus | None
