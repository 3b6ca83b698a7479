"""Train both demo models on a generated book and register them as champions (``arrisk demo``)."""

from __future__ import annotations

from typing import Any

from arrisk.ledger.frames import LedgerFrames
from training.config import ExperimentConfig, LabelSpec, LightGBMSpec
from training.ledger_data import as_of_plan

# Fast settings: a higher learning rate and no rolling-origin backtest keep a 2,000-customer book < 60 s.
DEMO_LIGHTGBM = LightGBMSpec(
    num_boost_round=300,
    early_stopping_rounds=20,
    n_folds=3,
    params={"learning_rate": 0.1, "num_leaves": 15, "min_data_in_leaf": 40},
)


def demo_config(frames: LedgerFrames, name: str) -> ExperimentConfig:
    """An experiment for ``name`` with as-of dates laid over the book (see ``as_of_plan``)."""
    kind = "customer_default" if name == "default_risk" else "invoice_late"
    train, valid = as_of_plan(frames, horizon_days=90, n_valid=2)
    return ExperimentConfig(
        name=name,
        model=name,
        label=LabelSpec(kind=kind, horizon_days=90),
        generated=None,  # type: ignore[arg-type]
        train_as_of=train[-8:],
        valid_as_of=valid,
        backtest_origins=0,
        lightgbm=DEMO_LIGHTGBM,
        payment_date_model=name == "late_payment",
        reference_rows=20_000,
    )


def train_demo_models(frames: LedgerFrames, *, tracking_uri: str | None = None) -> dict[str, dict[str, Any]]:
    """Train late_payment (+ payment_date) and default_risk, make each new version champion.

    Returns per model: version, run_id and the out-of-time metrics (ROC-AUC, PR-AUC, Brier, ECE, ...).
    """
    from mlflow import MlflowClient

    from models.registry import CHAMPION
    from training.runner import run_experiment

    out: dict[str, dict[str, Any]] = {}
    snapshots: dict = {}  # both models read the same month-end snapshots
    for name in ("late_payment", "default_risk"):
        result = run_experiment(
            demo_config(frames, name), frames, tracking_uri=tracking_uri, snapshots=snapshots
        )
        MlflowClient().set_registered_model_alias(name, CHAMPION, str(result.version))
        keys = (
            "valid_roc_auc",
            "valid_pr_auc",
            "valid_brier",
            "valid_ece",
            "valid_top_decile_capture",
            "scorecard_valid_roc_auc",
            "dpd_rule_valid_roc_auc",
        )
        out[name] = {
            "version": result.version,
            "run_id": result.run_id,
            **{k: result.metrics[k] for k in keys if k in result.metrics},
        }
        if result.payment_date:
            out["payment_date"] = {k: v for k, v in result.payment_date.items()}
    return out
