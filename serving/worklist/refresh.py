"""Batch refresh: features for every customer and open invoice, scores, reasons, one worklist snapshot.

``refresh_worklist`` writes the run, its ranked items and its open invoices in ONE transaction, so the
API only does indexed reads of the newest run. Vectorised throughout (a million customers in minutes).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine

from arrisk.errors import UnavailableError
from serving.worklist import states, writer
from serving.worklist.policy import Tier, WorklistPolicy
from serving.worklist.reasons import top_reasons
from serving.worklist.scores import (
    customer_probabilities,
    invoice_days_late,
    invoice_probabilities,
    model_level,
)


@dataclass
class RefreshSummary:
    run_id: int
    as_of: dt.date
    n_customers: int
    n_invoices: int
    seconds: float
    rows_per_second: float
    tiers: dict[str, int]
    states: dict[str, int]
    models: dict[str, Any]
    feature_version: str
    stages: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _models(models: Any) -> dict[str, Any]:
    """LoadedModel per name from a ModelStore, a mapping, or (None) the registry's champions."""
    if models is None:
        from serving.model_store import ModelStore
        from serving.settings import get_serving_settings

        settings = get_serving_settings()
        store = ModelStore(registry_uri=settings.registry_uri, cache_dir=settings.models_cache_dir)
        store.load_all()
        models = store
    if hasattr(models, "slots"):
        return {n: s.loaded for n, s in models.slots.items() if s.loaded is not None}
    return {n: m for n, m in dict(models).items() if m is not None}


def _invoice_frame(
    snapshot: Any, p_late: np.ndarray, days_late: pd.DataFrame, as_of: pd.Timestamp
) -> pd.DataFrame:
    inv = snapshot.invoices
    due = as_of + pd.to_timedelta(inv["inv_days_to_due"].round().astype("int64"), unit="D")
    predicted = due + pd.to_timedelta(days_late["p50"].round(), unit="D")
    predicted = predicted.where(predicted.isna() | (predicted >= as_of), as_of)
    return pd.DataFrame(
        {
            "invoice_id": inv["invoice_id"].to_numpy(),
            "customer_id": inv["customer_id"].to_numpy(),
            "open_amount": inv["inv_open_amount"].to_numpy(dtype="float64"),
            "due_date": due.to_numpy(),
            "days_past_due": inv["inv_days_past_due"].round().astype("int64").to_numpy(),
            "days_to_due": inv["inv_days_to_due"].to_numpy(dtype="float64"),
            "p_late": p_late,
            "days_late_p10": days_late["p10"].to_numpy(),
            "days_late_p50": days_late["p50"].to_numpy(),
            "days_late_p90": days_late["p90"].to_numpy(),
            "predicted_payment_date": predicted.to_numpy(),
        }
    )


def _customer_amounts(inv: pd.DataFrame, policy: WorklistPolicy) -> pd.DataFrame:
    overdue = inv["days_past_due"] > 0
    soon = ~overdue & (inv["days_to_due"] <= policy.due_soon_days)
    at_stake = overdue | soon
    pred_ns = inv["predicted_payment_date"].astype("int64").where(inv["predicted_payment_date"].notna())
    parts = pd.DataFrame(
        {
            "customer_id": inv["customer_id"],
            "open_amount": inv["open_amount"],
            "overdue_amount": inv["open_amount"].where(overdue, 0.0),
            "due_soon_amount": inv["open_amount"].where(soon, 0.0),
            "oldest_days_past_due": inv["days_past_due"].clip(lower=0),
            "expected_late_amount": (inv["p_late"] * inv["open_amount"]).where(at_stake, 0.0),
            "late_weight_base": inv["open_amount"].where(at_stake & inv["p_late"].notna(), 0.0),
            "pred_weighted": pred_ns * inv["open_amount"],
            "pred_weight": inv["open_amount"].where(pred_ns.notna(), 0.0),
        }
    )
    agg = parts.groupby("customer_id").agg(
        {c: ("max" if c == "oldest_days_past_due" else "sum") for c in parts.columns if c != "customer_id"}
    )
    agg["p_late"] = (agg["expected_late_amount"] / agg["late_weight_base"]).where(agg["late_weight_base"] > 0)
    mean_ns = (agg["pred_weighted"] / agg["pred_weight"]).where(agg["pred_weight"] > 0)
    agg["predicted_payment_date"] = pd.to_datetime(mean_ns, unit="ns").dt.normalize()
    return agg.drop(columns=["late_weight_base", "pred_weighted", "pred_weight"])


def rank_customers(amounts: pd.DataFrame, policy: WorklistPolicy) -> pd.DataFrame:
    """Priority = expected cash at stake (weights from the policy) times the state multiplier; tier; rank."""
    w = policy.weights
    out = amounts.copy()
    aging = out["overdue_amount"] * (out["oldest_days_past_due"] / policy.aging_full_days).clip(upper=1.0)
    out["expected_loss"] = out["p_default"] * out["open_amount"] * policy.loss_given_default
    out["c_late"] = w.late_weight * out["expected_late_amount"]
    out["c_default"] = w.default_weight * out["expected_loss"]
    out["c_aging"] = w.aging_weight * aging
    mult = out["state"].map({s.value: m for s, m in policy.state_multipliers.items()}).fillna(1.0)
    out["state_multiplier"] = mult
    out["priority_score"] = (out["c_late"] + out["c_default"] + out["c_aging"]) * mult
    out["tier"] = np.select(
        [
            out["priority_score"] >= policy.tiers.high_min_score,
            out["priority_score"] >= policy.tiers.medium_min_score,
        ],
        [Tier.high.value, Tier.medium.value],
        Tier.low.value,
    )
    out = out.sort_values(["priority_score", "customer_id"], ascending=[False, True], kind="mergesort")
    out["rank"] = np.arange(1, len(out) + 1)
    return out


def next_actions(items: pd.DataFrame) -> np.ndarray:
    """What the collector should do next, from the state and the tier."""
    by_state = {
        "open_dispute": "follow up the open dispute with its owner before chasing payment",
        "payment_plan": "check the next installment of the payment plan",
        "promise_pending": "wait for the promised payment; check on the promised date",
    }
    by_tier = {
        "high": "call the customer today",
        "medium": "send a personal email",
        "low": "leave to automated dunning",
    }
    action = items["tier"].map(by_tier)
    action = action.where(items["state"] != "broken_promise", "call today: a promise to pay was broken")
    for state, text in by_state.items():
        action = action.where(items["state"] != state, text)
    return action.to_numpy()


def _explain_reasons(
    model: Any | None, snapshot: Any, customer_ids: pd.Index, templates: dict[str, str]
) -> pd.Series:
    if model is None or len(customer_ids) == 0 or model_level(model, snapshot) != "customer":
        return pd.Series([[] for _ in range(len(customer_ids))], index=customer_ids, dtype=object)
    rows = snapshot.customers.set_index("customer_id").loc[customer_ids]
    contrib, _base = model.explain(rows)
    values = rows[model.feature_names_].to_numpy(dtype="float64")
    reasons = top_reasons(contrib.to_numpy(), values, list(model.feature_names_), templates)
    return pd.Series(reasons, index=customer_ids, dtype=object)


def _record_scores(
    conn: Connection, served: dict[str, Any], day: dt.date, p_default: pd.Series, inv: pd.DataFrame
) -> None:
    """Keep what was served, per model version, so outcome monitoring can judge it once labels mature."""
    from training.monitoring.scores import write_served_scores

    write_served_scores(
        conn,
        model_name="default_risk",
        model_version=served["default_risk"].version,
        as_of=day,
        entity="customer",
        frame=pd.DataFrame({"entity_id": p_default.index, "probability": p_default.to_numpy()}),
    )
    write_served_scores(
        conn,
        model_name="late_payment",
        model_version=served["late_payment"].version,
        as_of=day,
        entity="invoice",
        frame=pd.DataFrame({"entity_id": inv["invoice_id"], "probability": inv["p_late"]}),
    )


def refresh_worklist(
    engine: Engine,
    as_of: dt.date | str,
    *,
    models: Any,
    policy: WorklistPolicy | None = None,
    features_dir: Path | None = None,
    keep_runs: int = 2,
    progress: Callable[[str], None] | None = None,
) -> RefreshSummary:
    """Score the whole book as of ``as_of`` and write a ranked worklist snapshot (one transaction)."""
    from arrisk.ledger.load import load_frames
    from features.pipeline import build_snapshot
    from serving.settings import get_serving_settings
    from serving.worklist.policy import load_worklist_policy

    settings = get_serving_settings()
    policy = policy or load_worklist_policy(settings.worklist_policy)
    day = pd.Timestamp(as_of).normalize()
    served = _models(models)
    missing = [n for n in ("default_risk", "late_payment") if n not in served]
    if missing:
        raise UnavailableError(
            f"worklist refresh needs models {missing}: none loaded (train them or check the registry)"
        )
    stages: dict[str, float] = {}
    clock = time.perf_counter()

    def stage(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        stages[name] = round(now - clock, 3)
        clock = now
        if progress:
            progress(name)

    started = clock
    frames = load_frames(engine)
    stage("load")
    snapshot = build_snapshot(frames, day, workers=None)  # every core for a large book on 4+ cores
    stage("features")
    default, late = served["default_risk"].model, served["late_payment"].model
    dates = served.get("payment_date")
    p_default = pd.Series(customer_probabilities(default, snapshot), index=snapshot.customers["customer_id"])
    inv = _invoice_frame(
        snapshot,
        invoice_probabilities(late, snapshot),
        invoice_days_late(dates.model if dates else None, snapshot),
        day,
    )
    stage("score")
    amounts = _customer_amounts(inv, policy)
    amounts["p_default"] = p_default.reindex(amounts.index).fillna(0.0)
    amounts["state"] = states.customer_states(engine, day.date(), amounts.index, policy)
    master = frames.customers.set_index("customer_id")
    items = rank_customers(amounts, policy).join(master[["name", "collector_id", "segment", "currency"]])
    items["next_action"] = next_actions(items)
    stage("rank")
    items["reasons"] = _explain_reasons(default, snapshot, items.index, policy.reasons)
    stage("explain")
    warnings = [
        f"model {name} v{lm.version} was trained on feature set {lm.feature_set_version}, "
        f"snapshot is {snapshot.version}"
        for name, lm in served.items()
        if lm.feature_set_version and lm.feature_set_version != snapshot.version
    ]
    model_info = {n: {"version": lm.version, "run_id": lm.run_id} for n, lm in served.items()}
    run_id = writer.write_run(
        engine,
        as_of=day.date(),
        items=items,
        invoices=inv,
        snapshot=snapshot,
        models=model_info,
        policy_version=policy.version,
        features_dir=features_dir or settings.features_dir / "serving",
        keep_runs=keep_runs,
        started=started,
        also=lambda conn: _record_scores(conn, served, day.date(), p_default, inv),
    )
    stage("write and record scores")
    seconds = time.perf_counter() - started
    return RefreshSummary(
        run_id=run_id,
        as_of=day.date(),
        n_customers=len(items),
        n_invoices=len(inv),
        seconds=round(seconds, 3),
        rows_per_second=round((len(snapshot.customers) + len(inv)) / max(seconds, 1e-9), 1),
        tiers=items["tier"].value_counts().to_dict(),
        states=items["state"].value_counts().to_dict(),
        models=model_info,
        feature_version=snapshot.version,
        stages=stages,
        warnings=warnings,
    )
