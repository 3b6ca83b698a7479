"""The serving tables on SQLite and PostgreSQL: migration, users and tokens, audit of user creation."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, inspect, select

from arrisk.errors import PermissionDenied, ValidationError
from arrisk.store.tables import AuditLog
from serving.auth import Role, authenticate, create_user, deactivate_user, issue_jwt

SECRET = "a-test-secret-that-is-long-enough-for-hs256"


def test_migration_creates_the_serving_tables(engine: Engine) -> None:
    names = set(inspect(engine).get_table_names())
    assert {
        "users",
        "api_keys",
        "worklist_runs",
        "worklist_items",
        "worklist_invoices",
        "explanation_cache",
        "credit_limit_recommendations",
        "credit_limit_decisions",
    } <= names


def test_token_round_trip_and_deactivation(engine: Engine) -> None:
    user_id, token = create_user(engine, name="Bo", role="collector", collector_id="COL-9")
    principal = authenticate(engine, token, jwt_secret=SECRET)
    assert (principal.user_id, principal.role, principal.collector_id) == (user_id, Role.collector, "COL-9")
    assert authenticate(engine, issue_jwt(user_id, secret=SECRET), jwt_secret=SECRET).user_id == user_id
    with pytest.raises(PermissionDenied):
        authenticate(engine, token[:-2] + "xx", jwt_secret=SECRET)
    deactivate_user(engine, user_id, actor="test")
    with pytest.raises(PermissionDenied):
        authenticate(engine, token, jwt_secret=SECRET)
    with engine.connect() as conn:
        actions = conn.execute(select(AuditLog.action).where(AuditLog.entity_id == user_id)).scalars().all()
    assert actions == ["create", "deactivate"]


@pytest.mark.parametrize(("role", "collector"), [("boss", None), ("collector", None)])
def test_bad_user_is_refused(engine: Engine, role: str, collector: str | None) -> None:
    with pytest.raises(ValidationError):
        create_user(engine, name="X", role=role, collector_id=collector)
