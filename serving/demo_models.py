"""Fallback champions for demos and tests when the training job has not registered any.

Labels are read from the book itself: features at ``as_of - horizon``, outcomes at ``as_of``
(an invoice still open more than 15 days past due is late; a customer more than 30 days past due
on anything is a default). Small, quick, and honest about what it is: not the training pipeline.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

HORIZON_DAYS = 90


def _labelled(frames: Any, as_of: dt.date | str) -> tuple[Any, pd.Series, pd.Series, pd.Series]:
    from features.pipeline import build_snapshot

    later = pd.Timestamp(as_of)
    before = build_snapshot(frames, later - pd.Timedelta(days=HORIZON_DAYS))
    after = build_snapshot(frames, later)
    dpd_after = after.invoices.set_index("invoice_id")["inv_days_past_due"]
    inv_dpd = before.invoices["invoice_id"].map(dpd_after)
    late = (inv_dpd.fillna(0) > 15).astype(int)
    days_late = (before.invoices["inv_days_past_due"] + HORIZON_DAYS).where(
        inv_dpd.notna(), before.invoices["inv_days_past_due"]
    )
    worst = after.customers.set_index("customer_id")["oldest_days_past_due"]
    default = (before.customers["customer_id"].map(worst).fillna(0) > 30).astype(int)
    return before, late, default, days_late.astype("float64")


def _both_classes(y: pd.Series, score: pd.Series) -> pd.Series:
    """Tiny books can have one class only; then the top fifth by ``score`` is labelled bad."""
    if y.nunique() > 1:
        return y
    return (score.rank(method="first") > 0.8 * len(score)).astype(int)


def train_fallback_models(
    frames: Any, *, as_of: dt.date | str, tracking_uri: str | None = None
) -> dict[str, int]:
    import mlflow

    from features.pipeline import CUSTOMER_FEATURES, INVOICE_FEATURES
    from models.payment_date import PaymentDateModel
    from models.registry import log_model, register_version
    from models.registry import tracking_uri as set_tracking
    from models.risk_model import RiskModel

    set_tracking(tracking_uri)
    snap, late, default, days_late = _labelled(frames, as_of)
    X_c, X_i = snap.customers[CUSTOMER_FEATURES], snap.invoices[INVOICE_FEATURES]
    default = _both_classes(default, snap.customers["overdue_amount"])
    late = _both_classes(late, snap.invoices["inv_days_past_due"])
    small = {"num_leaves": 15, "min_data_in_leaf": 10}
    fitted = {
        "default_risk": (
            RiskModel("default_risk", params=small, num_boost_round=60, n_folds=3).fit(
                X_c, default, feature_set_version=snap.version
            ),
            X_c,
        ),
        "late_payment": (
            RiskModel("late_payment", params=small, num_boost_round=60, n_folds=3).fit(
                X_i, late, feature_set_version=snap.version
            ),
            X_i,
        ),
        "payment_date": (
            PaymentDateModel(params=small, num_boost_round=40).fit(
                X_i, days_late, feature_set_version=snap.version
            ),
            X_i,
        ),
    }
    mlflow.set_experiment("serving-fallback-models")
    versions = {}
    for name, (model, X) in fitted.items():
        with mlflow.start_run(run_name=f"fallback-{name}"):
            metrics = {"n_train": float(len(X)), "base_rate": float(getattr(model, "base_rate_", np.nan))}
            mlflow.log_metrics({k: v for k, v in metrics.items() if np.isfinite(v)})
            info = log_model(model, X_example=X, registered_name=name)
            versions[name] = register_version(info, name=name, model=model, metrics={})
    return versions
