"""Dunning run requests, run headers and per-invoice decisions with their reasons."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from arrisk.dunning.decide import Reason


class DunningRunRequest(BaseModel):
    as_of: dt.date = Field(
        ge=dt.date(1900, 1, 1), le=dt.date(2199, 12, 31), description="decide as of this date"
    )
    dry_run: bool = Field(default=False, description="decide and record decisions, contact nobody")
    send: bool = Field(default=False, description="deliver queued and failed messages after deciding")


class LevelSummary(BaseModel):
    level: int
    customers: int
    invoices: int
    open_amount: Decimal
    fees: Decimal


class DunningRunHeader(BaseModel):
    run_id: str
    as_of: dt.date
    started_at: dt.datetime | None = None
    actor: str
    dry_run: bool
    send: bool
    policies: dict[str, Any] = Field(description="policy name -> version used")
    counts: dict[str, int] = Field(description="invoices per reason, and messages queued")


class DunningRunSummary(DunningRunHeader):
    """What a run just did: counts per reason, contacts per level, delivery counts when sent."""

    levels: list[LevelSummary]
    delivery: dict[str, int]


class DunningDecision(BaseModel):
    customer_id: str
    invoice_id: str
    policy: str | None
    days_past_due: int
    open_amount: Decimal
    last_level: int | None
    level: int | None
    action: str = Field(description="contact | hold")
    reason: Reason
    explanation: str = Field(description="the reason in plain words")
    fee_amount: Decimal | None
    message_id: str | None


class DunningRunView(DunningRunHeader):
    decisions: list[DunningDecision]


class CustomerDunning(DunningRunHeader):
    """Why each of the customer's invoices was or was not contacted in a run."""

    customer_id: str
    decisions: list[DunningDecision]
