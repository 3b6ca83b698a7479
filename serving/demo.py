"""Demo helpers: one user per role (tokens returned once), and small champions when none are registered."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, func, select

from arrisk.store.tables import Customer
from serving.auth import Role, create_user


def _busiest_collector(engine: Engine) -> str:
    with engine.connect() as conn:
        row = conn.execute(
            select(Customer.collector_id, func.count())
            .where(Customer.collector_id.is_not(None))
            .group_by(Customer.collector_id)
            .order_by(func.count().desc(), Customer.collector_id)
            .limit(1)
        ).first()
    return str(row[0]) if row else "demo-collector"


def prepare_demo_service(engine: Engine, as_of: dt.date | str | None = None) -> dict[str, str]:
    """Create one demo user per role and return role -> bearer token (the collector owns the largest book)."""
    collector_id = _busiest_collector(engine)
    tokens: dict[str, str] = {}
    for role in Role:
        _, token = create_user(
            engine,
            name=f"demo {role.value}",
            role=role.value,
            collector_id=collector_id if role == Role.collector else None,
            actor="demo",
        )
        tokens[role.value] = token
    return tokens


def ensure_demo_models(
    frames: Any, *, as_of: dt.date | str, tracking_uri: str | None = None
) -> dict[str, int]:
    """Train and register champions on ``frames`` (training's demo job). Returns name -> version."""
    from training.demo import train_demo_models

    result = train_demo_models(frames, tracking_uri=tracking_uri)
    return {k: int(v["version"]) for k, v in result.items() if v.get("version") is not None}
