"""Scoring schemas: ``ScoreRequest`` -> ``ScoreResponse``; ``Explanation`` with every contribution."""

from __future__ import annotations

import enum

from pydantic import BaseModel, Field


class RiskModelName(enum.StrEnum):
    default_risk = "default_risk"
    late_payment = "late_payment"


class FeatureContribution(BaseModel):
    feature: str
    value: float | None
    contribution: float = Field(description="SHAP value on the raw (log-odds) scale")


class Explanation(BaseModel):
    """base_value + sum(contributions) == raw_score; probability is the calibrated raw score."""

    model: RiskModelName
    version: int
    base_value: float
    raw_score: float
    probability: float
    contributions: list[FeatureContribution] = Field(
        description="every feature, largest |contribution| first"
    )


class ScoreRequest(BaseModel):
    model: RiskModelName = RiskModelName.default_risk
    rows: list[dict[str, float | None]] = Field(
        min_length=1, max_length=10_000, description="feature name -> value (null = missing)"
    )
    explain: bool = Field(default=False, description="add the SHAP explanation of every row")


class ScoredRow(BaseModel):
    probability: float
    raw_score: float
    explanation: Explanation | None = None


class ScoreResponse(BaseModel):
    model: RiskModelName
    version: int
    feature_set_version: str
    scores: list[ScoredRow]


class CustomerExplanation(Explanation):
    customer_id: str
    run_id: int
    cached: bool
