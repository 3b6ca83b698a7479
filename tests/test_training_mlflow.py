"""MLflow on a temporary store: a logged experiment run, its artifacts, versions, aliases and the gate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.registry import CHALLENGER, CHAMPION, alias_version
from tests.test_models_risk_model import book
from training.config import GateSpec, LightGBMSpec
from training.job import RunSpec
from training.promote import promote
from training.runner import run_table
from training.validation import TrainingTable

FEATURES = ["days_past_due_max", "share_late", "open_amount", "tenure_days"]


def table(n: int, *, seed: int = 0, features: list[str] = FEATURES, noise: float = 0.0) -> TrainingTable:
    X, y = book(n, seed=seed)
    rng = np.random.default_rng(seed + 100)
    if noise:  # flip a share of labels: a worse model
        flip = rng.random(n) < noise
        y = np.where(flip, 1 - y, y)
    frame = X.assign(
        label=y,
        customer_id=[f"C{i % (n // 4)}" for i in range(n)],
        as_of=pd.Timestamp("2025-01-31") + pd.to_timedelta(np.arange(n) % 6 * 30, unit="D"),
    )
    return TrainingTable(frame, features, group_column="customer_id", feature_set_version="t1")


SPEC = RunSpec(name="default_risk", lightgbm=LightGBMSpec(n_folds=3, num_boost_round=200), backtest_origins=2)


def test_run_logs_metrics_artifacts_baselines_and_registers(settings) -> None:
    import mlflow
    from mlflow import MlflowClient

    result = run_table(table(1500), SPEC)
    assert result.version == 1
    assert alias_version("default_risk", CHAMPION) == 1 and alias_version("default_risk", CHALLENGER) == 1
    run = mlflow.get_run(result.run_id)
    assert run.data.metrics["valid_roc_auc"] > 0.7
    for key in (
        "valid_pr_auc",
        "valid_ks",
        "valid_brier",
        "valid_log_loss",
        "valid_ece",
        "valid_top_decile_capture",
        "scorecard_valid_roc_auc",
        "dpd_rule_valid_roc_auc",
        "backtest_roc_auc_mean",
    ):
        assert np.isfinite(run.data.metrics[key]), key
    assert run.data.params["feature_set_version"] == "t1" and len(run.data.tags["data_digest"]) == 64
    files = {a.path for a in MlflowClient().list_artifacts(result.run_id)}
    assert {"plots", "reference", "validation", "features.json", "backtest.json"} <= files
    plots = {a.path for a in MlflowClient().list_artifacts(result.run_id, "plots")}
    assert plots == {
        f"plots/{p}.png" for p in ("roc", "pr", "calibration", "feature_importance", "shap_summary")
    }
    ref = mlflow.artifacts.download_artifacts(
        run_id=result.run_id, artifact_path="reference/features.parquet"
    )
    assert list(pd.read_parquet(ref).columns) == FEATURES
    children = mlflow.search_runs(filter_string=f"tags.mlflow.parentRunId = '{result.run_id}'")
    assert set(children["tags.kind"]) == {"scorecard", "dpd_rule"}


def test_same_data_same_metrics(settings) -> None:
    a = run_table(table(800), SPEC, register=False).metrics
    b = run_table(table(800), SPEC, register=False).metrics
    assert a == b


def test_gate_refuses_worse_and_accepts_better_challenger(settings) -> None:
    import mlflow

    run_table(table(1500), SPEC)  # v1: champion (first model)
    worse = run_table(table(1500, noise=0.35), SPEC)  # v2: trained on noisy labels
    assert worse.version == 2
    refused = promote("default_risk", gate=GateSpec(min_improvement=0.002))
    assert not refused.promoted and "below the required" in refused.reason
    assert alias_version("default_risk", CHAMPION) == 1
    better = run_table(table(6000, seed=1), SPEC)  # v3: four times the data
    accepted = promote("default_risk", gate=GateSpec(min_improvement=0.0, ece_tolerance=0.05))
    assert accepted.promoted, accepted.reason
    assert accepted.challenger["roc_auc"] >= accepted.champion["roc_auc"]
    assert alias_version("default_risk", CHAMPION) == better.version == 3
    decisions = mlflow.search_runs(filter_string="tags.kind = 'promotion'")
    assert sorted(decisions["tags.promotion.promoted"]) == ["False", "True"]


def test_gate_without_challenger_is_not_found(settings) -> None:
    from arrisk.errors import NotFoundError

    with pytest.raises(NotFoundError, match="no 'challenger'"):
        promote("late_payment")
