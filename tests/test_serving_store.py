"""The serving tables on SQLite and PostgreSQL: migration, users and tokens, audit of user creation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
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


def _run_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    items = pd.DataFrame(
        {
            "rank": [1, 2, 3],
            "name": ['Ölwerk "Nord" GmbH', "B", None],
            "collector_id": ["COL-01", None, "COL-02"],
            "segment": ["smb", "enterprise", None],
            "currency": ["EUR", "SEK", "USD"],
            "tier": ["high", "medium", "low"],
            "state": ["open_dispute", "none", "promise_pending"],
            "priority_score": [1234.56789, 12.5, 0.0],
            "c_late": [1.234, 2.0, 0.0],
            "c_default": [3.456, 0.0, 0.0],
            "c_aging": [0.0, 10.5, 0.0],
            "state_multiplier": [0.5, 1.0, 0.3],
            "open_amount": [1384164.81, 100.0, 0.1],
            "overdue_amount": [880865.52, 0.0, 0.0],
            "due_soon_amount": [0.0, 100.0, 0.1],
            "oldest_days_past_due": [91, 0, 0],
            "p_default": [0.123456789, 0.5, 1e-07],
            "p_late": [0.25, np.nan, 0.75],
            "expected_late_amount": [10.0, 0.0, 0.07],
            "expected_loss": [5.5, 0.0, 0.0],
            "reasons": [[{"feature": "f", "value": None, "contribution": 0.5, "text": "t é"}], [], []],
            "predicted_payment_date": pd.to_datetime(["2026-01-10", None, "2025-12-31"]),
            "next_action": ["call", "email", "wait"],
        },
        index=pd.Index(["C1", "C2", "C3"], name="customer_id"),
    )
    invoices = pd.DataFrame(
        {
            "invoice_id": ["I1", "I2"],
            "customer_id": ["C1", "C2"],
            "open_amount": [1000.255, 5.0],
            "due_date": pd.to_datetime(["2025-11-01", "2026-02-28"]),
            "days_past_due": [44, 0],
            "p_late": [0.3, np.nan],
            "days_late_p10": [1.0, np.nan],
            "days_late_p50": [5.5, np.nan],
            "days_late_p90": [20.25, np.nan],
            "predicted_payment_date": pd.to_datetime(["2025-12-20", None]),
        }
    )
    return items, invoices


def _plain(value: object) -> object:
    return float(value) if isinstance(value, Decimal) else value


def test_worklist_run_rows_read_back_as_written(engine: Engine, tmp_path: Path) -> None:
    """What the refresh writes (on SQLite through the driver's executemany, elsewhere SQLAlchemy's insert)
    reads back through the ORM as the row values the writer built: amounts, dates, JSON and nulls."""
    from serving.tables import WorklistInvoice, WorklistItem
    from serving.worklist import writer

    items, invoices = _run_frames()
    snapshot = SimpleNamespace(customers=pd.DataFrame({"customer_id": ["C1"]}), version="v-test")
    run_id = writer.write_run(
        engine,
        as_of=dt.date(2025, 12, 15),
        items=items,
        invoices=invoices,
        snapshot=snapshot,
        models={},
        policy_version="p",
        features_dir=tmp_path,
        keep_runs=2,
        started=0.0,
    )
    for table, expected in (
        (WorklistItem, writer.item_rows(run_id, items)),
        (WorklistInvoice, writer.invoice_rows(run_id, invoices)),
    ):
        with engine.connect() as conn:
            stored = conn.execute(select(table).where(table.run_id == run_id)).all()
        got = {tuple(r._mapping.values())[1]: {k: _plain(v) for k, v in r._mapping.items()} for r in stored}
        want = {tuple(r.values())[1]: r for r in expected}
        assert got == want
    assert want["I2"]["predicted_payment_date"] is None and want["I1"]["due_date"] == dt.date(2025, 11, 1)


def test_served_scores_and_the_worklist_run_commit_together(engine: Engine, tmp_path: Path) -> None:
    """The refresh records what it served inside the snapshot's transaction: a failure there leaves
    neither the run nor any score; success leaves both."""
    from serving.tables import WorklistRun
    from serving.worklist import writer
    from training.monitoring.scores import served_scores, write_served_scores

    items, invoices = _run_frames()
    snapshot = SimpleNamespace(customers=pd.DataFrame({"customer_id": ["C1"]}), version="v-test")
    scores = pd.DataFrame({"entity_id": ["C1", "C2", "C3"], "probability": [0.1, 0.5, 0.9]})

    def record(conn, fail: bool) -> None:  # type: ignore[no-untyped-def]
        write_served_scores(
            conn,
            model_name="default_risk",
            model_version=3,
            as_of="2025-12-15",
            entity="customer",
            frame=scores,
        )
        if fail:
            raise RuntimeError("disk full")

    def run(fail: bool) -> int:
        return writer.write_run(
            engine, as_of=dt.date(2025, 12, 15), items=items, invoices=invoices, snapshot=snapshot, models={},
            policy_version="p", features_dir=tmp_path, keep_runs=2, started=0.0,
            also=lambda conn: record(conn, fail),
        )  # fmt: skip

    with pytest.raises(RuntimeError):
        run(fail=True)
    with engine.connect() as conn:
        assert conn.execute(select(WorklistRun)).first() is None
    assert served_scores(engine).empty
    run(fail=False)
    stored = served_scores(engine)
    assert sorted(stored["entity_id"]) == ["C1", "C2", "C3"]
    assert stored.set_index("entity_id")["probability"].to_dict() == {"C1": 0.1, "C2": 0.5, "C3": 0.9}
    assert (pd.to_datetime(stored["as_of"]) == pd.Timestamp("2025-12-15")).all()
