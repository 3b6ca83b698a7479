"""Append-only audit log: every write records who, when, what, and the row before and after."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from arrisk.store.tables import AuditLog, Base


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def row_dict(obj: Base | None) -> dict[str, Any] | None:
    """An ORM row as a JSON-ready dict (for the audit log's before/after)."""
    if obj is None:
        return None
    return {c.key: _jsonable(getattr(obj, c.key)) for c in obj.__table__.columns}  # type: ignore[attr-defined]


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditLog:
    entry = AuditLog(
        actor=actor,
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=_jsonable(before),
        after=_jsonable(after),
        at=dt.datetime.now(dt.UTC),
    )
    session.add(entry)
    return entry
