"""Credit-limit schemas; limits are in the customer's currency."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from pydantic import BaseModel, Field, model_validator

Money = Decimal


class RecommendationRequest(BaseModel):
    customer_id: str = Field(min_length=1, max_length=64)
    requested_limit: Decimal | None = Field(default=None, ge=0, max_digits=18, decimal_places=2)


class WhatIf(BaseModel):
    scenario: str
    description: str
    p_default: float
    recommended_limit: Decimal


class RequestedAssessment(BaseModel):
    requested_limit: Decimal
    approvable: bool
    reason: str
    expected_loss: Decimal


class RecommendationStatus(enum.StrEnum):
    pending = "pending"
    approved = "approved"
    overridden = "overridden"


class Recommendation(BaseModel):
    recommendation_id: int
    customer_id: str
    currency: str
    as_of: dt.date
    current_limit: Decimal | None
    requested_limit: Decimal | None
    recommended_limit: Decimal
    p_default: float
    risk_class: str
    review_date: dt.date
    binding_rule: str = Field(description="profit | loss_cap | max_limit | step_up | step_down | initial_cap")
    expected_profit: Decimal
    expected_loss: Decimal
    reasons: list[str]
    what_if: list[WhatIf]
    requested: RequestedAssessment | None
    policy_version: str
    model_version: int | None
    status: RecommendationStatus


class DecisionKind(enum.StrEnum):
    approve = "approve"
    override = "override"


class DecisionRequest(BaseModel):
    decision: DecisionKind
    limit: Decimal | None = Field(
        default=None,
        ge=0,
        max_digits=18,
        decimal_places=2,
        description="the limit to set; required to override",
    )
    reason: str | None = Field(default=None, max_length=2000, description="required to override")

    @model_validator(mode="after")
    def _override_needs_limit_and_reason(self) -> DecisionRequest:
        if self.decision == DecisionKind.override and (self.limit is None or not (self.reason or "").strip()):
            raise ValueError("an override needs both 'limit' and a non-empty 'reason'")
        return self


class Decision(BaseModel):
    recommendation_id: int
    customer_id: str
    decision: DecisionKind
    previous_limit: Decimal | None
    final_limit: Decimal
    currency: str
    decided_by: str
    decided_at: dt.datetime
