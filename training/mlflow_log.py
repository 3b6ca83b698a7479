"""Log an evaluation to MLflow: params, metrics, plots, reference features, the model and its version."""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models.registry import log_model, register_version
from training import plots
from training.job import Evaluation, RunSpec
from training.tracking import ensure_experiment
from training.validation import TrainingTable

LABEL_COLUMN = "__label__"


@dataclass
class LoggedRun:
    run_id: str
    version: int | None
    experiment_id: str


def data_digest(frame: pd.DataFrame) -> str:
    """Order-sensitive SHA-256 of the rows and columns the model was trained on."""
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes() + ",".join(map(str, frame.columns)).encode()).hexdigest()


def _params(evaluation: Evaluation, table: TrainingTable, spec: RunSpec) -> dict[str, Any]:
    model = evaluation.model
    lgb_params = {f"lgb.{k}": v for k, v in spec.lightgbm.params.items()}
    return {
        "model": spec.model,
        "calibration": spec.calibration,
        "early_stopping": spec.early_stopping,
        "num_boost_round": spec.lightgbm.num_boost_round,
        "best_iteration": model.best_iteration_,
        "n_folds": spec.lightgbm.n_folds,
        "seed": spec.seed,
        "embargo_days": spec.embargo_days,
        "n_features": len(table.features),
        "n_train": len(evaluation.train_rows),
        "n_valid": len(evaluation.valid_rows),
        "feature_set_version": table.feature_set_version,
        "class_imbalance": "none (unweighted; calibrated probabilities)",
        "monotone": ",".join(sorted(model.monotone_constraints_)) or "none",
        **lgb_params,
        **table.extras,
    }


def _log_frames(evaluation: Evaluation, table: TrainingTable, spec: RunSpec) -> None:
    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        ref = table.X(evaluation.train_rows)
        ref = ref.sample(min(len(ref), spec.reference_rows), random_state=spec.seed)
        (Path(tmp) / "reference").mkdir()
        ref.to_parquet(Path(tmp) / "reference" / "features.parquet", index=False)
        valid = table.X(evaluation.valid_rows).assign(**{LABEL_COLUMN: table.y(evaluation.valid_rows)})
        valid = valid.sample(min(len(valid), spec.reference_rows), random_state=spec.seed)
        (Path(tmp) / "validation").mkdir()
        valid.to_parquet(Path(tmp) / "validation" / "valid.parquet", index=False)
        mlflow.log_artifacts(tmp)


def _log_plots(evaluation: Evaluation, table: TrainingTable) -> None:
    import matplotlib.pyplot as plt
    import mlflow

    y = table.y(evaluation.valid_rows)
    X_valid = table.X(evaluation.valid_rows)
    sample = X_valid.sample(min(len(X_valid), 2000), random_state=0)
    contrib, _ = evaluation.model.explain(sample)
    figures = {
        "plots/roc.png": plots.roc_figure(y, evaluation.valid_scores),
        "plots/pr.png": plots.pr_figure(y, evaluation.valid_scores),
        "plots/calibration.png": plots.calibration_figure(y, evaluation.valid_scores["lightgbm"]),
        "plots/feature_importance.png": plots.importance_figure(evaluation.model.feature_importance_),
        "plots/shap_summary.png": plots.shap_summary_figure(contrib, sample),
    }
    for name, fig in figures.items():
        mlflow.log_figure(fig, name)
        plt.close(fig)


def log_evaluation(
    evaluation: Evaluation,
    table: TrainingTable,
    spec: RunSpec,
    *,
    tracking_uri: str | None = None,
    register: bool = True,
    tags: dict[str, str] | None = None,
) -> LoggedRun:
    """One parent run (LightGBM) with nested runs for the baselines; registers the model if asked."""
    import mlflow

    experiment_id = ensure_experiment(spec.name, uri=tracking_uri)
    metrics = evaluation.flat_metrics()
    with mlflow.start_run(run_name=f"{spec.model}-lightgbm") as run:
        mlflow.set_tags(
            {
                "model": spec.model,
                "kind": "lightgbm",
                "data_digest": data_digest(evaluation.train_rows[[*table.features, table.label]]),
                **(tags or {}),
            }
        )
        mlflow.log_params(_params(evaluation, table, spec))
        mlflow.log_metrics({k: v for k, v in metrics.items() if np.isfinite(v)})
        for step, fold in enumerate(evaluation.backtest):
            mlflow.log_metrics(
                {f"backtest_{k}": fold[k] for k in ("roc_auc", "pr_auc", "ece") if np.isfinite(fold[k])},
                step=step,
            )
        mlflow.log_dict(
            {
                "features": table.features,
                "feature_set_version": table.feature_set_version,
                "monotone": evaluation.model.monotone_constraints_,
            },
            "features.json",
        )
        mlflow.log_text(json.dumps(evaluation.backtest, indent=2), "backtest.json")
        _log_plots(evaluation, table)
        _log_frames(evaluation, table, spec)
        for who, values in evaluation.metrics.items():
            if who != "lightgbm":
                with mlflow.start_run(run_name=f"{spec.model}-{who}", nested=True):
                    mlflow.set_tags({"model": spec.model, "kind": who})
                    mlflow.log_metrics({k: v for k, v in values.items() if np.isfinite(v)})
        info = log_model(
            evaluation.model,
            X_example=table.X(evaluation.valid_rows),
            registered_name=spec.name if register else None,
        )
        version = (
            register_version(
                info,
                name=spec.name,
                model=evaluation.model,
                metrics={
                    k: v
                    for k, v in metrics.items()
                    if k in ("valid_roc_auc", "valid_pr_auc", "valid_ece", "valid_brier")
                },
            )
            if register
            else None
        )
    return LoggedRun(run.info.run_id, version, experiment_id)
