"""Dunning for the API: ``arrisk.dunning`` runs and explanations turned into schemas (no FastAPI here)."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from arrisk.dunning.decide import Reason
from arrisk.dunning.engine import run_dunning
from arrisk.dunning.runs import dunning_summary, explain, get_run
from serving.auth import Principal
from serving.collections.service import actor_of
from serving.customers.access import visible_customer
from serving.dunning.schemas import (
    CustomerDunning,
    DunningDecision,
    DunningRunRequest,
    DunningRunSummary,
    DunningRunView,
    LevelSummary,
)

REASON_TEXT: dict[str, str] = {
    Reason.contact: "contacted: past due long enough for the next level",
    Reason.blocked: "held: dunning for this customer is blocked until a date",
    Reason.disputed: "held: the invoice has an open dispute",
    Reason.payment_plan: "held: the invoice is under a current payment plan",
    Reason.promise: "held: a promise to pay covers the invoice and is not yet due",
    Reason.max_level: "held: the highest level of the policy was already reached",
    Reason.not_due: "held: not yet past due long enough for the next level",
    Reason.waiting: "held: the policy's waiting time after the last level has not passed",
    Reason.below_minimum: "held: the customer's amount to dun is below the level's minimum",
    Reason.recently_contacted: "held: the customer got a message within the policy's minimum gap",
}
CENTS = Decimal("0.01")


def start_run(
    engine: Engine, user: Principal, request: DunningRunRequest, *, letters_dir: Path
) -> DunningRunSummary:
    """Run the engine as of the date (recording decisions, and events and messages unless dry)."""
    result = run_dunning(
        engine,
        request.as_of,
        dry_run=request.dry_run,
        send=request.send,
        actor=actor_of(user),
        letters_dir=letters_dir,
    )
    levels = [
        LevelSummary(
            level=int(r.level),
            customers=int(r.customers),
            invoices=int(r.invoices),
            open_amount=_money(r.open_amount) or Decimal(0),
            fees=_money(r.fees) or Decimal(0),
        )
        for r in dunning_summary(result).itertuples(index=False)
    ]
    return DunningRunSummary(
        run_id=result.run_id,
        as_of=result.as_of,
        actor=user.user_id,
        dry_run=result.dry_run,
        send=result.send,
        policies=result.policies,
        counts=result.counts,
        levels=levels,
        delivery=result.delivery,
    )


def run_with_decisions(engine: Engine, run_id: str) -> DunningRunView:
    """A recorded run and every decision with its reason."""
    run = get_run(engine, run_id)
    return DunningRunView(**_header(run), decisions=_decisions(run["decisions"]))


def customer_dunning(
    engine: Engine, user: Principal, customer_id: str, *, run_id: str | None
) -> CustomerDunning:
    """The customer's decisions in a run (the newest by default); 404 outside a collector's portfolio."""
    visible_customer(engine, user, customer_id)
    out = explain(engine, customer_id, run_id=run_id)
    return CustomerDunning(**_header(out), customer_id=customer_id, decisions=_decisions(out["decisions"]))


def _header(run: dict[str, Any]) -> dict[str, Any]:
    keys = ("run_id", "as_of", "started_at", "actor", "dry_run", "send", "policies", "counts")
    return {k: run.get(k) for k in keys}


def _money(value: Any) -> Decimal | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return Decimal(str(value)).quantize(CENTS)


def _level(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _decisions(frame: pd.DataFrame) -> list[DunningDecision]:
    return [
        DunningDecision(
            customer_id=r["customer_id"],
            invoice_id=r["invoice_id"],
            policy=r["policy"],
            days_past_due=int(r["days_past_due"]),
            open_amount=_money(r["open_amount"]) or Decimal(0),
            last_level=_level(r["last_level"]),
            level=_level(r["level"]),
            action=r["action"],
            reason=Reason(r["reason"]),
            explanation=REASON_TEXT.get(r["reason"], r["reason"]),
            fee_amount=_money(r["fee_amount"]),
            message_id=r["message_id"],
        )
        for r in frame.to_dict("records")
    ]
