"""Train, evaluate and log the days-late quantile model beside the late-payment classifier."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.payment_date import PaymentDateModel
from models.registry import log_model, register_version
from training.metrics import quantile_metrics
from training.tracking import ensure_experiment
from training.validation import TrainingTable

NAME = "payment_date"


def fit_payment_date(
    table: TrainingTable, train: pd.DataFrame, valid: pd.DataFrame, *, seed: int = 0
) -> tuple[PaymentDateModel, dict[str, float]]:
    """Fit on settled training invoices (``days_late`` known); pinball loss and coverage on validation."""
    train = train[train["days_late"].notna()]
    valid = valid[valid["days_late"].notna()]
    model = PaymentDateModel(random_state=seed).fit(
        table.X(train),
        train["days_late"],
        eval_set=(table.X(valid), valid["days_late"]),
        feature_set_version=table.feature_set_version,
    )
    metrics = {
        f"valid_{k}": v
        for k, v in quantile_metrics(valid["days_late"], model.predict_quantiles(table.X(valid))).items()
    }
    model.metrics_ = metrics
    return model, metrics


def train_payment_date(
    table: TrainingTable,
    train: pd.DataFrame,
    valid: pd.DataFrame,
    *,
    seed: int = 0,
    tracking_uri: str | None = None,
    register: bool = True,
) -> dict[str, float]:
    import mlflow

    model, metrics = fit_payment_date(table, train, valid, seed=seed)
    ensure_experiment(NAME, uri=tracking_uri)
    with mlflow.start_run(run_name="payment_date-lightgbm-quantile"):
        mlflow.set_tags({"model": NAME, "kind": "lightgbm-quantile"})
        mlflow.log_params(
            {
                "quantiles": "p10,p50,p90",
                "n_train": len(train),
                "seed": seed,
                "feature_set_version": table.feature_set_version,
            }
        )
        mlflow.log_metrics({k: v for k, v in metrics.items() if np.isfinite(v)})
        info = log_model(model, X_example=table.X(valid), registered_name=NAME if register else None)
        if register:
            register_version(info, name=NAME, model=model, metrics=metrics)
    return metrics
