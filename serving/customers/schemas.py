"""Customer view schemas; exposure amounts in the base currency as of the newest worklist run."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from serving.worklist.policy import CustomerState, Tier
from serving.worklist.schemas import PriorityComponents, Reason


class _Row(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Exposure(BaseModel):
    base_currency: str
    open_amount: Decimal
    overdue_amount: Decimal
    aging: dict[str, Decimal] = Field(description="open amount by days-past-due bucket")
    credit_limit: Decimal | None = Field(description="in the customer's currency")
    credit_limit_currency: str
    credit_utilisation: float | None = Field(description="open amount / credit limit, both in base currency")
    unapplied_cash: Decimal = Field(description="payments not (yet) allocated to invoices, base currency")


class CustomerScores(BaseModel):
    run_id: int
    p_default: float
    p_late: float | None
    priority_score: float
    components: PriorityComponents
    rank: int
    tier: Tier
    state: CustomerState
    reasons: list[Reason]
    predicted_payment_date: dt.date | None
    next_action: str


class OpenInvoice(_Row):
    invoice_id: str
    open_amount: Decimal
    due_date: dt.date
    days_past_due: int
    p_late: float | None
    days_late_p10: float | None
    days_late_p50: float | None
    days_late_p90: float | None
    predicted_payment_date: dt.date | None


class PromiseView(_Row):
    promise_id: str
    created_at: dt.date
    promised_date: dt.date
    amount: Decimal
    currency: str | None
    status: str


class DisputeView(_Row):
    dispute_id: str
    invoice_id: str
    opened_at: dt.date
    reason: str | None
    amount: Decimal | None
    status: str
    deadline: dt.date | None


class PlanView(_Row):
    plan_id: str
    created_at: dt.date
    status: str


class ActivityView(BaseModel):
    at: dt.datetime | dt.date
    kind: str
    detail: str | None


class CustomerView(BaseModel):
    customer_id: str
    name: str
    segment: str | None
    collector_id: str | None
    currency: str
    payment_terms_days: int
    as_of: dt.date | None
    exposure: Exposure
    scores: CustomerScores | None = Field(description="null when the customer had nothing open in the run")
    open_invoices: list[OpenInvoice]
    promises: list[PromiseView]
    disputes: list[DisputeView]
    payment_plans: list[PlanView]
    recent_activity: list[ActivityView]
