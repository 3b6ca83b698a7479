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


def record_row(
    session: Session, row: Base, *, actor: str, action: str, before: dict[str, Any] | None = None
) -> AuditLog:
    """Audit a write to one ORM row: entity and id come from the row, ``after`` is its current state."""
    from sqlalchemy import inspect

    state = inspect(row)
    if state.identity is None:  # a new row gets its key (and defaults) on flush
        session.flush()
    identity = state.identity or ()
    entity_id = ":".join(str(part) for part in identity) or None
    return record(
        session,
        actor=actor,
        action=action,
        entity=row.__tablename__,  # type: ignore[attr-defined]
        entity_id=entity_id,
        before=before,
        after=row_dict(row),
    )
