"""Tables of the risk service: users and API keys, worklist snapshots, explanations, credit-limit reviews.

Migration: ``arrisk/store/migrations/versions/0004_serving.py`` (Alembic branch ``serving``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from arrisk.store.tables import CCY, MONEY, Base

BIGID = BigInteger().with_variant(Integer, "sqlite")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class User(Base):
    __tablename__ = "users"
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))  # collector | credit_analyst | data_scientist | admin
    collector_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ApiKey(Base):
    """Only the SHA-256 of the secret is kept; the token is shown once, at creation."""

    __tablename__ = "api_keys"
    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.user_id"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class WorklistRun(Base):
    """One batch refresh: the as-of date, the model versions and the feature set it used."""

    __tablename__ = "worklist_runs"
    run_id: Mapped[int] = mapped_column(BIGID, primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    models: Mapped[dict[str, Any]] = mapped_column(JSON)
    feature_version: Mapped[str] = mapped_column(String(32))
    features_path: Mapped[str | None] = mapped_column(Text)
    policy_version: Mapped[str] = mapped_column(String(32))
    n_customers: Mapped[int] = mapped_column(Integer)
    n_invoices: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(Float)


class WorklistItem(Base):
    """One customer of one run, ranked (rank 1 = most cash at stake); keyset pages read (run_id, rank)."""

    __tablename__ = "worklist_items"
    run_id: Mapped[int] = mapped_column(ForeignKey("worklist_runs.run_id"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    collector_id: Mapped[str | None] = mapped_column(String(64))
    segment: Mapped[str | None] = mapped_column(String(40))
    currency: Mapped[str] = mapped_column(CCY)
    tier: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(24))
    priority_score: Mapped[float] = mapped_column(Float)
    components: Mapped[dict[str, float]] = mapped_column(JSON)
    open_amount: Mapped[Decimal] = mapped_column(MONEY)
    overdue_amount: Mapped[Decimal] = mapped_column(MONEY)
    due_soon_amount: Mapped[Decimal] = mapped_column(MONEY)
    oldest_days_past_due: Mapped[int] = mapped_column(Integer)
    p_default: Mapped[float] = mapped_column(Float)
    p_late: Mapped[float | None] = mapped_column(Float)
    expected_late_amount: Mapped[Decimal] = mapped_column(MONEY)
    expected_loss: Mapped[Decimal] = mapped_column(MONEY)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    predicted_payment_date: Mapped[dt.date | None] = mapped_column(Date)
    next_action: Mapped[str] = mapped_column(String(200))
    __table_args__ = (
        Index("ix_worklist_items_rank", "run_id", "rank"),
        Index("ix_worklist_items_collector", "run_id", "collector_id", "rank"),
    )


class WorklistInvoice(Base):
    """Open invoices of one run with their late-payment probability and predicted payment date."""

    __tablename__ = "worklist_invoices"
    run_id: Mapped[int] = mapped_column(ForeignKey("worklist_runs.run_id"), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64))
    open_amount: Mapped[Decimal] = mapped_column(MONEY)
    due_date: Mapped[dt.date] = mapped_column(Date)
    days_past_due: Mapped[int] = mapped_column(Integer)
    p_late: Mapped[float | None] = mapped_column(Float)
    days_late_p10: Mapped[float | None] = mapped_column(Float)
    days_late_p50: Mapped[float | None] = mapped_column(Float)
    days_late_p90: Mapped[float | None] = mapped_column(Float)
    predicted_payment_date: Mapped[dt.date | None] = mapped_column(Date)
    __table_args__ = (Index("ix_worklist_invoices_customer", "run_id", "customer_id"),)


class ExplanationCache(Base):
    """Full SHAP explanation of one customer's score, computed on first request for a run and model."""

    __tablename__ = "explanation_cache"
    run_id: Mapped[int] = mapped_column(ForeignKey("worklist_runs.run_id"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    base_value: Mapped[float] = mapped_column(Float)
    raw_score: Mapped[float] = mapped_column(Float)
    probability: Mapped[float] = mapped_column(Float)
    contributions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class CreditLimitRecommendation(Base):
    __tablename__ = "credit_limit_recommendations"
    recommendation_id: Mapped[int] = mapped_column(BIGID, primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    created_by: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[int | None] = mapped_column(BIGID)
    as_of: Mapped[dt.date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(CCY)
    current_limit: Mapped[Decimal | None] = mapped_column(MONEY)
    requested_limit: Mapped[Decimal | None] = mapped_column(MONEY)
    recommended_limit: Mapped[Decimal] = mapped_column(MONEY)
    p_default: Mapped[float] = mapped_column(Float)
    risk_class: Mapped[str] = mapped_column(String(8))
    review_date: Mapped[dt.date] = mapped_column(Date)
    policy_version: Mapped[str] = mapped_column(String(32))
    model_version: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | approved | overridden


class CreditLimitDecision(Base):
    __tablename__ = "credit_limit_decisions"
    decision_id: Mapped[int] = mapped_column(BIGID, primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(
        ForeignKey("credit_limit_recommendations.recommendation_id"), unique=True
    )
    decision: Mapped[str] = mapped_column(String(16))  # approve | override
    final_limit: Mapped[Decimal] = mapped_column(MONEY)
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
