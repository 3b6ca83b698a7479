"""Reading runs back: a run's decisions, one customer's explanation, a per-level summary; and
the per-customer overrides (another policy, or a block until a date)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy import Engine, select

from arrisk.collections._records import get_customer
from arrisk.collections.actor import WRITE_ROLES, Actor, require_role
from arrisk.dunning.engine import RunResult
from arrisk.dunning.policy import PolicySet, load_policies
from arrisk.dunning.tables import DunningDecision, DunningOverride, DunningRun
from arrisk.errors import NotFoundError, ValidationError
from arrisk.store import audit
from arrisk.store.db import session_scope

DECISION_COLUMNS = [
    "customer_id",
    "invoice_id",
    "policy",
    "days_past_due",
    "open_amount",
    "last_level",
    "level",
    "action",
    "reason",
    "fee_amount",
    "message_id",
]


def _decisions(engine: Engine, *where: Any) -> pd.DataFrame:
    cols = [getattr(DunningDecision, c) for c in ["run_id", *DECISION_COLUMNS]]
    with engine.connect() as conn:
        rows = conn.execute(select(*cols).where(*where).order_by(DunningDecision.decision_id)).fetchall()
    return pd.DataFrame(rows, columns=["run_id", *DECISION_COLUMNS])


def get_run(engine: Engine, run_id: str) -> dict[str, Any]:
    """The run's header (date, actor, policies, counts) and every decision with its reason."""
    with session_scope(engine) as session:
        run = session.get(DunningRun, run_id)
        if run is None:
            raise NotFoundError(f"dunning run {run_id!r} not found")
        header = audit.row_dict(run) or {}
    return header | {"decisions": _decisions(engine, DunningDecision.run_id == run_id)}


def explain(engine: Engine, customer_id: str, *, run_id: str | None = None) -> dict[str, Any]:
    """Why each of a customer's invoices was or was not contacted in a run (the newest by default)."""
    with session_scope(engine) as session:
        get_customer(session, customer_id)
        stmt = select(DunningRun).order_by(DunningRun.as_of.desc(), DunningRun.started_at.desc()).limit(1)
        if run_id is not None:
            stmt = select(DunningRun).where(DunningRun.run_id == run_id)
        run = session.scalars(stmt).first()
        if run is None:
            raise NotFoundError(f"no dunning run found{f' with id {run_id!r}' if run_id else ''}")
        header = audit.row_dict(run) or {}
    frame = _decisions(
        engine, DunningDecision.run_id == header["run_id"], DunningDecision.customer_id == customer_id
    )
    return header | {"customer_id": customer_id, "decisions": frame}


def dunning_summary(result: RunResult) -> pd.DataFrame:
    """Per level: customers contacted, invoices, open amount and fees (a dry run counts the same)."""
    contacts = result.decisions.loc[result.decisions["action"] == "contact"]
    if contacts.empty:
        return pd.DataFrame(columns=["level", "customers", "invoices", "open_amount", "fees"])
    grouped = contacts.groupby(contacts["level"].astype(int))
    return (
        pd.DataFrame(
            {
                "customers": grouped["customer_id"].nunique(),
                "invoices": grouped["invoice_id"].count(),
                "open_amount": grouped["open_amount"].sum().round(2),
                "fees": grouped["fee"].sum().round(2),
            }
        )
        .rename_axis("level")
        .reset_index()
    )


def set_override(
    engine: Engine,
    customer_id: str,
    *,
    actor: Actor,
    policy: str | None = None,
    blocked_until: dt.date | None = None,
    reason: str | None = None,
    policies: PolicySet | None = None,
) -> dict[str, Any]:
    """Give a customer another policy and/or block dunning until a date (inclusive); None clears both."""
    require_role(actor, WRITE_ROLES, action="set dunning override")
    if policy is not None:
        (policies or load_policies()).get(policy)
    with session_scope(engine) as session:
        get_customer(session, customer_id)
        row = session.get(DunningOverride, customer_id)
        before = audit.row_dict(row)
        if policy is None and blocked_until is None:
            if row is None:
                raise ValidationError(f"dunning override for {customer_id}: nothing to clear")
            session.delete(row)
            after = None
        else:
            row = row or DunningOverride(customer_id=customer_id)
            row.policy, row.blocked_until, row.reason, row.set_by = (
                policy,
                blocked_until,
                reason,
                actor.user_id,
            )
            row.set_at = dt.datetime.now(dt.UTC)
            session.add(row)
            session.flush()
            after = audit.row_dict(row)
        audit.record(
            session,
            actor=actor.user_id,
            action="dunning.override",
            entity="dunning_overrides",
            entity_id=customer_id,
            before=before,
            after=after,
        )
        return after or {}
