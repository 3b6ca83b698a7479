"""Worklist API schemas: ``WorklistItem`` rows in a ``WorklistPage``; amounts in the base currency."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from serving.worklist.policy import CustomerState, Tier


class Reason(BaseModel):
    feature: str
    value: float | None
    contribution: float = Field(description="SHAP contribution to the raw score (log-odds)")
    text: str


class PriorityComponents(BaseModel):
    expected_late: float = Field(description="late weight x expected late amount")
    expected_default_loss: float = Field(description="default weight x p_default x open amount x LGD")
    aging: float = Field(description="aging weight x overdue amount x age factor")
    state_multiplier: float


class WorklistItem(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    rank: int
    customer_id: str
    name: str
    collector_id: str | None
    segment: str | None
    currency: str = Field(description="the customer's invoicing currency; amounts are in the base currency")
    open_amount: Decimal
    overdue_amount: Decimal
    due_soon_amount: Decimal
    oldest_days_past_due: int
    p_default: float
    p_late: float | None = Field(description="open-amount weighted probability of late payment")
    expected_late_amount: Decimal
    expected_loss: Decimal
    priority_score: float
    components: PriorityComponents
    tier: Tier
    state: CustomerState
    reasons: list[Reason]
    predicted_payment_date: dt.date | None
    next_action: str


class WorklistPage(BaseModel):
    run_id: int
    as_of: dt.date
    base_currency: str
    items: list[WorklistItem]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")


CSV_COLUMNS = [
    "rank",
    "customer_id",
    "name",
    "collector_id",
    "segment",
    "currency",
    "open_amount",
    "overdue_amount",
    "due_soon_amount",
    "oldest_days_past_due",
    "p_default",
    "p_late",
    "expected_late_amount",
    "expected_loss",
    "priority_score",
    "tier",
    "state",
    "reason_1",
    "reason_2",
    "reason_3",
    "predicted_payment_date",
    "next_action",
]
