"""Stored monitoring results: one JSON payload per kind, model, version and period."""

from __future__ import annotations

import json
import math
from typing import Any

from sqlalchemy import Engine, delete, select

from arrisk.store.db import session_scope
from training.monitoring.tables import MonitoringResult


def _json_safe(payload: Any) -> Any:
    """NaN/inf become null (PostgreSQL JSON rejects them); numpy scalars become Python numbers."""
    return json.loads(json.dumps(payload, default=_default), parse_constant=lambda _c: None)


def _default(value: Any) -> Any:
    if hasattr(value, "item"):
        item = value.item()
        return None if isinstance(item, float) and not math.isfinite(item) else item
    return str(value)


def save_result(
    engine: Engine,
    *,
    kind: str,
    model: str,
    version: int | None,
    period: str,
    payload: dict[str, Any],
    replace: bool = False,
) -> None:
    """Append a result; with ``replace`` the earlier one of the same kind/model/version/period goes."""
    with session_scope(engine) as session:
        if replace:
            session.execute(
                delete(MonitoringResult).where(
                    MonitoringResult.kind == kind,
                    MonitoringResult.model_name == model,
                    MonitoringResult.model_version == version,
                    MonitoringResult.period == period,
                )
            )
        session.add(
            MonitoringResult(
                kind=kind, model_name=model, model_version=version, period=period, payload=_json_safe(payload)
            )
        )


def load_results(engine: Engine, *, kind: str, model: str | None = None) -> list[dict[str, Any]]:
    """Results of ``kind`` ordered by model, period and version, each payload with its keys."""
    query = select(MonitoringResult).where(MonitoringResult.kind == kind)
    if model is not None:
        query = query.where(MonitoringResult.model_name == model)
    query = query.order_by(
        MonitoringResult.model_name,
        MonitoringResult.period,
        MonitoringResult.model_version,
        MonitoringResult.result_id,
    )
    with session_scope(engine) as session:
        return [
            {
                **row.payload,
                "model": row.model_name,
                "version": row.model_version,
                "period": row.period,
                "created_at": row.created_at.isoformat() if row.created_at else None,
            }
            for row in session.scalars(query)
        ]
