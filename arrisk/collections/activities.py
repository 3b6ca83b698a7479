"""Activities: calls, emails, letters and notes a collector logs, with outcome and next follow-up."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select

from arrisk.collections._records import get_customer
from arrisk.collections.actor import WRITE_ROLES, Actor, require_role
from arrisk.collections.schemas import ActivityIn, ActivityOut
from arrisk.errors import ValidationError
from arrisk.store import audit
from arrisk.store.db import session_scope
from arrisk.store.tables import Activity


def log_activity(engine: Engine, customer_id: str, activity: ActivityIn, *, actor: Actor) -> ActivityOut:
    """Record one contact or note; ``next_follow_up`` feeds the collector's worklist."""
    require_role(actor, WRITE_ROLES, action="log activity")
    occurred = activity.occurred_at or dt.datetime.now(dt.UTC)
    if activity.next_follow_up is not None and activity.next_follow_up < occurred.date():
        raise ValidationError(
            f"activity: next_follow_up {activity.next_follow_up} is before the activity date "
            f"{occurred.date()}"
        )
    with session_scope(engine) as session:
        get_customer(session, customer_id)
        row = Activity(
            customer_id=customer_id,
            kind=activity.kind.value,
            occurred_at=occurred,
            outcome=activity.outcome,
            note=activity.note,
            next_follow_up=activity.next_follow_up,
            user_id=actor.user_id,
        )
        session.add(row)
        audit.record_row(session, row, actor=actor.user_id, action="activity.create")
        return ActivityOut.model_validate(row)


def list_activities(engine: Engine, customer_id: str, *, limit: int = 100) -> list[ActivityOut]:
    """The customer's activities, newest first."""
    with session_scope(engine) as session:
        get_customer(session, customer_id)
        rows = session.scalars(
            select(Activity)
            .where(Activity.customer_id == customer_id)
            .order_by(Activity.occurred_at.desc(), Activity.activity_id.desc())
            .limit(limit)
        )
        return [ActivityOut.model_validate(r) for r in rows]
