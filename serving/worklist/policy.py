"""The worklist policy (``policies/worklist.yaml``) parsed into pydantic models."""

from __future__ import annotations

import enum
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, model_validator

from arrisk.errors import ValidationError


class Tier(enum.StrEnum):
    high = "high"  # a collector calls
    medium = "medium"  # a personal email
    low = "low"  # automated dunning only


class CustomerState(enum.StrEnum):
    none = "none"
    broken_promise = "broken_promise"
    open_dispute = "open_dispute"
    promise_pending = "promise_pending"
    payment_plan = "payment_plan"


class Weights(BaseModel):
    late_weight: float = Field(ge=0)
    default_weight: float = Field(ge=0)
    aging_weight: float = Field(ge=0)


class TierThresholds(BaseModel):
    high_min_score: float = Field(ge=0)
    medium_min_score: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> TierThresholds:
        if self.medium_min_score > self.high_min_score:
            raise ValueError(
                f"tiers: medium_min_score {self.medium_min_score} "
                f"is above high_min_score {self.high_min_score}"
            )
        return self


class WorklistPolicy(BaseModel):
    version: str
    due_soon_days: int = Field(ge=0)
    weights: Weights
    loss_given_default: float = Field(gt=0, le=1)
    aging_full_days: int = Field(gt=0)
    state_multipliers: dict[CustomerState, float]
    tiers: TierThresholds
    broken_promise_lookback_days: int = Field(default=90, gt=0)
    reasons: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _every_state(self) -> WorklistPolicy:
        missing = [s.value for s in CustomerState if s not in self.state_multipliers]
        if missing:
            raise ValueError(f"state_multipliers lacks {missing}")
        return self


def load_worklist_policy(path: Path | str) -> WorklistPolicy:
    source = Path(path)
    try:
        return WorklistPolicy.model_validate(yaml.safe_load(source.read_text()))
    except (OSError, ValueError) as err:
        raise ValidationError(f"worklist policy {source}: {err}") from err
