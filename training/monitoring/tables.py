"""Monitoring's tables: the scores served (for outcome monitoring) and stored monitoring results."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from arrisk.store.tables import Base

BIGID = BigInteger().with_variant(Integer, "sqlite")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ServedScore(Base):
    """One probability served by a model version for a customer or invoice on a scoring date."""

    __tablename__ = "served_scores"
    __table_args__ = (
        UniqueConstraint(
            "model_name", "model_version", "as_of", "entity", "entity_id", name="uq_served_score"
        ),
        Index("ix_served_scores_model_as_of", "model_name", "as_of"),
        CheckConstraint("entity IN ('customer', 'invoice')", name="ck_served_score_entity"),
        CheckConstraint("probability >= 0 AND probability <= 1", name="ck_served_score_probability"),
    )
    score_id: Mapped[int] = mapped_column(BIGID, primary_key=True, autoincrement=True)
    model_name: Mapped[str] = mapped_column(String(64))
    model_version: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[dt.date] = mapped_column(Date)
    entity: Mapped[str] = mapped_column(String(16))  # customer | invoice
    entity_id: Mapped[str] = mapped_column(String(64))
    probability: Mapped[float] = mapped_column(Float)


class MonitoringResult(Base):
    """A drift summary or one period's realised performance of a model version, as JSON."""

    __tablename__ = "monitoring_results"
    __table_args__ = (
        Index("ix_monitoring_results_kind_model", "kind", "model_name", "period"),
        CheckConstraint("kind IN ('drift', 'performance')", name="ck_monitoring_result_kind"),
    )
    result_id: Mapped[int] = mapped_column(BIGID, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # drift | performance
    model_name: Mapped[str] = mapped_column(String(64))
    model_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    period: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
