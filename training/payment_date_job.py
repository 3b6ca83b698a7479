"""Train, evaluate and log the days-late quantile model beside the late-payment classifier."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from arrisk.timing import PhaseClock
from models.payment_date import PaymentDateModel
from models.registry import log_model, register_version
from training.metrics import quantile_metrics
from training.tracking import ensure_experiment
from training.validation import TrainingTable

NAME = "payment_date"

# LightGBM settings of the classifier's config that concern data handling, not the objective: the
# quantile models inherit them (histogram bins, threads, row/column-wise histograms).
SHARED_PARAMS = ("max_bin", "num_threads", "force_col_wise", "force_row_wise", "min_data_in_bin")


def fit_payment_date(
    table: TrainingTable,
    train: pd.DataFrame,
    valid: pd.DataFrame,
    *,
    seed: int = 0,
    max_rows: int | None = None,
    params: dict[str, Any] | None = None,
) -> tuple[PaymentDateModel, dict[str, float]]:
    """Fit on settled training invoices (``days_late`` known); pinball loss and coverage on validation.

    ``max_rows`` fits on a seeded random sample of that many settled training rows (all when fewer);
    ``params`` are the classifier's LightGBM settings, of which ``SHARED_PARAMS`` are used.
    """
    train = train[train["days_late"].notna()]
    valid = valid[valid["days_late"].notna()]
    if max_rows is not None and len(train) > max_rows:
        train = train.sample(n=max_rows, random_state=seed)
    shared = {k: v for k, v in (params or {}).items() if k in SHARED_PARAMS}
    model = PaymentDateModel(params=shared or None, random_state=seed).fit(
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
    max_rows: int | None = None,
    params: dict[str, Any] | None = None,
    timings: dict[str, float] | None = None,
) -> dict[str, float]:
    """Fit (see ``fit_payment_date``), log to MLflow and register; ``timings`` gets the phase seconds."""
    import mlflow

    clock = PhaseClock(timings)
    model, metrics = fit_payment_date(table, train, valid, seed=seed, max_rows=max_rows, params=params)
    clock.lap("payment_date_fit_s")
    ensure_experiment(NAME, uri=tracking_uri)
    with mlflow.start_run(run_name="payment_date-lightgbm-quantile"):
        mlflow.set_tags({"model": NAME, "kind": "lightgbm-quantile"})
        mlflow.log_params(
            {
                "quantiles": "p10,p50,p90",
                "n_train": _settled_rows(train, max_rows),
                "max_rows": max_rows if max_rows is not None else "all",
                "seed": seed,
                "feature_set_version": table.feature_set_version,
            }
        )
        mlflow.log_metrics({k: v for k, v in metrics.items() if np.isfinite(v)})
        info = log_model(model, X_example=table.X(valid), registered_name=NAME if register else None)
        if register:
            register_version(info, name=NAME, model=model, metrics=metrics)
    clock.lap("payment_date_log_s")
    return metrics


def _settled_rows(train: pd.DataFrame, max_rows: int | None) -> int:
    settled = int(train["days_late"].notna().sum())
    return settled if max_rows is None else min(settled, max_rows)
