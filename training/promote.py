"""Promotion gate: the challenger becomes champion only if it ranks better and calibrates no worse.

Both versions are scored on the challenger's out-of-time validation sample (``validation/valid.parquet``
logged with its run), so the comparison is on the same rows. The decision and its numbers are logged
as a run ``promotion`` in the model's experiment and as tags on the challenger's version.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from arrisk.errors import NotFoundError
from models.registry import CHALLENGER, CHAMPION, alias_version, load_model, tracking_uri
from training.config import GateSpec
from training.metrics import classification_metrics
from training.mlflow_log import LABEL_COLUMN
from training.tracking import ensure_experiment


@dataclass
class PromotionDecision:
    name: str
    promoted: bool
    reason: str
    challenger_version: int
    champion_version: int | None
    challenger: dict[str, float] = field(default_factory=dict)
    champion: dict[str, float] = field(default_factory=dict)

    def text(self) -> str:
        verdict = "promoted to champion" if self.promoted else "not promoted"
        against = f" over v{self.champion_version}" if self.champion_version is not None else ""
        return f"{self.name} v{self.challenger_version} {verdict}{against}: {self.reason}"


def _validation_rows(run_id: str) -> pd.DataFrame:
    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        path = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path="validation/valid.parquet", dst_path=tmp
        )
        return pd.read_parquet(Path(path))


def _score(model, rows: pd.DataFrame) -> dict[str, float]:
    return classification_metrics(rows[LABEL_COLUMN].to_numpy(), model.predict_proba(rows))


def decide(name: str, gate: GateSpec, *, uri: str | None = None) -> PromotionDecision:
    """Compare ``name@challenger`` with ``name@champion``; moves no alias."""
    tracking_uri(uri)
    chal_version = alias_version(name, CHALLENGER)
    if chal_version is None:
        raise NotFoundError(f"registered model {name!r} has no {CHALLENGER!r} version to promote")
    champ_version = alias_version(name, CHAMPION)
    if champ_version is None:
        return PromotionDecision(
            name, True, "no champion yet: the first model becomes champion", chal_version, None
        )
    if champ_version == chal_version:
        return PromotionDecision(
            name, False, f"version {chal_version} is already champion", chal_version, champ_version
        )
    challenger, champion = load_model(name, CHALLENGER), load_model(name, CHAMPION)
    rows = _validation_rows(challenger.run_id)
    c_metrics, k_metrics = _score(challenger.model, rows), _score(champion.model, rows)
    gain = c_metrics[gate.metric] - k_metrics[gate.metric]
    ece_gap = c_metrics["ece"] - k_metrics["ece"]
    if gain < gate.min_improvement:
        reason = (
            f"{gate.metric} {c_metrics[gate.metric]:.4f} vs champion {k_metrics[gate.metric]:.4f}: "
            f"gain {gain:+.4f} is below the required {gate.min_improvement:.4f}"
        )
        promoted = False
    elif ece_gap > gate.ece_tolerance:
        reason = (
            f"calibration worse: ECE {c_metrics['ece']:.4f} vs champion {k_metrics['ece']:.4f} "
            f"(tolerance {gate.ece_tolerance:.4f})"
        )
        promoted = False
    else:
        reason = (
            f"{gate.metric} gain {gain:+.4f} >= {gate.min_improvement:.4f} and ECE gap "
            f"{ece_gap:+.4f} within tolerance"
        )
        promoted = True
    return PromotionDecision(name, promoted, reason, chal_version, champ_version, c_metrics, k_metrics)


def promote(name: str, *, gate: GateSpec | None = None, uri: str | None = None) -> PromotionDecision:
    """Run the gate, move ``champion`` if it passes, and log the decision either way."""
    import mlflow
    from mlflow import MlflowClient

    gate = gate or GateSpec()
    decision = decide(name, gate, uri=uri)
    client = MlflowClient()
    version = str(decision.challenger_version)
    if decision.promoted:
        client.set_registered_model_alias(name, CHAMPION, version)
    ensure_experiment(name, uri=uri)
    with mlflow.start_run(run_name="promotion"):
        mlflow.set_tags(
            {
                "kind": "promotion",
                "model": name,
                "promotion.promoted": str(decision.promoted),
                "promotion.reason": decision.reason,
                "promotion.challenger_version": version,
                "promotion.champion_version": str(decision.champion_version),
            }
        )
        mlflow.log_params(
            {
                "gate.metric": gate.metric,
                "gate.min_improvement": gate.min_improvement,
                "gate.ece_tolerance": gate.ece_tolerance,
            }
        )
        mlflow.log_metrics(
            {f"challenger_{k}": v for k, v in decision.challenger.items()}
            | {f"champion_{k}": v for k, v in decision.champion.items()}
        )
    client.set_model_version_tag(
        name, version, "promotion.decision", "promoted" if decision.promoted else "refused"
    )
    client.set_model_version_tag(name, version, "promotion.reason", decision.reason[:500])
    return decision
