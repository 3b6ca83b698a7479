"""The dunning run: read the store as frames, decide, and record run, decisions, messages, outbox
items and one dunning event per contacted invoice and level, all in one transaction."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine, exc, func, insert, select

from arrisk.collections.actor import WRITE_ROLES, Actor, require_role
from arrisk.collections.book import read_book
from arrisk.dunning.decide import Decisions, decide
from arrisk.dunning.policy import PolicySet, load_policies
from arrisk.dunning.tables import DunningDecision, DunningMessage, DunningOverride, DunningRun, OutboxItem
from arrisk.errors import ConflictError, ValidationError
from arrisk.store import audit
from arrisk.store.db import session_scope
from arrisk.store.tables import DunningEvent


@dataclass
class RunResult:
    """What one run decided; ``decisions`` has one row per invoice in scope."""

    run_id: str
    as_of: dt.date
    dry_run: bool
    send: bool
    policies: dict[str, int]
    counts: dict[str, int]
    decisions: pd.DataFrame
    messages: pd.DataFrame
    delivery: dict[str, int] = field(default_factory=dict)


def read_overrides(engine: Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        rows = conn.execute(
            select(DunningOverride.customer_id, DunningOverride.policy, DunningOverride.blocked_until)
        ).fetchall()
    return pd.DataFrame(rows, columns=["customer_id", "policy", "blocked_until"])


def read_last_messages(engine: Engine) -> pd.Series:
    """Newest message date per customer over all real (not dry) runs."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(DunningMessage.customer_id, func.max(DunningMessage.as_of)).group_by(
                DunningMessage.customer_id
            )
        ).fetchall()
    return pd.Series({r[0]: pd.Timestamp(r[1]) for r in rows}, dtype="datetime64[ns]")


def _check_overrides(overrides: pd.DataFrame, policies: PolicySet) -> None:
    unknown = sorted(set(overrides["policy"].dropna()) - set(policies.by_name))
    if unknown:
        raise ValidationError(
            f"dunning overrides name unknown policies {unknown}; known: {sorted(policies.by_name)}"
        )


def run_dunning(
    engine: Engine,
    as_of: dt.date,
    *,
    dry_run: bool,
    send: bool,
    actor: Actor,
    policies: PolicySet | None = None,
    letters_dir: Path | None = None,
    smtp: Any | None = None,
) -> RunResult:
    """Decide for every customer and in-scope invoice as of the date; unless ``dry_run``, record
    events and queue one message per contacted customer; with ``send``, deliver the outbox."""
    require_role(actor, WRITE_ROLES, action="run dunning")
    policies = policies or load_policies()
    overrides = read_overrides(engine)
    _check_overrides(overrides, policies)
    book = read_book(engine, as_of=as_of)
    decisions = decide(
        book, as_of, policies=policies, overrides=overrides, last_message=read_last_messages(engine)
    )
    run_id = f"{as_of:%Y%m%d}-{uuid.uuid4().hex[:8]}"
    counts = {str(k): int(v) for k, v in decisions.invoices["reason"].value_counts().items()}
    counts["messages"] = 0 if dry_run else len(decisions.messages)
    result = RunResult(
        run_id=run_id,
        as_of=as_of,
        dry_run=dry_run,
        send=send and not dry_run,
        policies=policies.versions(),
        counts=counts,
        decisions=decisions.invoices,
        messages=decisions.messages,
    )
    _record(engine, result, decisions, actor=actor)
    if result.send:
        from arrisk.dunning.delivery import deliver_outbox

        result.delivery = deliver_outbox(engine, smtp=smtp, letters_dir=letters_dir)
    return result


def _decision_rows(result: RunResult, decisions: Decisions) -> list[dict[str, Any]]:
    inv = decisions.invoices
    msg_id = None if result.dry_run else result.run_id + "-" + inv["customer_id"]
    frame = pd.DataFrame(
        {
            "run_id": result.run_id,
            "customer_id": inv["customer_id"],
            "invoice_id": inv["invoice_id"],
            "policy": inv["policy"],
            "days_past_due": inv["days_past_due"].astype(int),
            "open_amount": inv["open_amount"].map(lambda v: Decimal(f"{v:.2f}")),
            "last_level": inv["last_level"],
            "level": inv["level"],
            "action": inv["action"],
            "reason": inv["reason"],
            "fee_amount": inv["fee"].map(lambda v: None if pd.isna(v) else Decimal(f"{v:.2f}")),
            "message_id": (msg_id.where(inv["action"] == "contact", None) if msg_id is not None else None),
        }
    )
    for col in ("last_level", "level"):
        frame[col] = frame[col].astype("Int64")
    frame = frame.astype(object)
    return frame.where(frame.notna(), None).to_dict("records")


def _record(engine: Engine, result: RunResult, decisions: Decisions, *, actor: Actor) -> None:
    try:
        with session_scope(engine) as session:
            run = DunningRun(
                run_id=result.run_id,
                as_of=result.as_of,
                actor=actor.user_id,
                dry_run=result.dry_run,
                send=result.send,
                policies=result.policies,
                counts=result.counts,
            )
            session.add(run)
            session.flush()
            rows = _decision_rows(result, decisions)
            if rows:
                session.connection().execute(insert(DunningDecision), rows)
            if not result.dry_run:
                _queue_messages(session, result, decisions)
            audit.record(
                session,
                actor=actor.user_id,
                action="dunning.run",
                entity="dunning_runs",
                entity_id=result.run_id,
                after=audit.row_dict(run),
            )
    except exc.IntegrityError as err:
        raise ConflictError(
            f"dunning run as of {result.as_of}: another run recorded the same invoice level "
            f"concurrently; nothing was recorded ({err.orig})"
        ) from err


def _queue_messages(session, result: RunResult, decisions: Decisions) -> None:  # type: ignore[no-untyped-def]
    messages, events, outbox = [], [], []
    for m in decisions.messages.itertuples(index=False):
        message_id = f"{result.run_id}-{m.customer_id}"
        messages.append(
            {
                "message_id": message_id,
                "run_id": result.run_id,
                "customer_id": m.customer_id,
                "as_of": result.as_of,
                "level": int(m.level),
                "template": m.template,
                "language": m.language,
                "invoices": m.invoices,
            }
        )
        outbox += [
            {
                "message_id": message_id,
                "customer_id": m.customer_id,
                "channel": ch,
                "status": "pending",
                "attempts": 0,
            }
            for ch in m.channels
        ]
        events += [
            {
                "run_id": result.run_id,
                "customer_id": m.customer_id,
                "invoice_id": line["invoice_id"],
                "level": line["level"],
                "channel": m.channels[0],
                "event_date": result.as_of,
                "status": "pending",
            }
            for line in m.invoices
        ]
    if messages:
        session.connection().execute(insert(DunningMessage), messages)
        session.connection().execute(insert(OutboxItem), outbox)
        session.connection().execute(insert(DunningEvent), events)
