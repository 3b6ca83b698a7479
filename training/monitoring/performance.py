"""Outcome monitoring: realised ROC-AUC, calibration and capture of the scores served each month.

Scores come from ``served_scores``; outcomes from ``features.labels`` judged with the store's data
(NaN = not matured yet: left out until it matures). One result per model, version and month.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from arrisk.ledger.frames import LedgerFrames
from training.monitoring.policy import PerformancePolicy
from training.monitoring.results import load_results, save_result
from training.monitoring.scores import served_scores


def outcomes(
    frames: LedgerFrames,
    as_of: pd.Timestamp,
    *,
    entity: str,
    policy: PerformancePolicy,
    data_end: pd.Timestamp | None,
) -> pd.Series:
    """Bad outcome (1/0/NaN) per entity id scored on ``as_of``."""
    from features.labels import customer_default_labels, invoice_late_labels

    if entity == "customer":
        labels = customer_default_labels(frames, as_of, horizon_days=policy.horizon_days, data_end=data_end)
        return labels.set_index("customer_id")["default"]
    labels = invoice_late_labels(frames, as_of, late_days=policy.late_days, data_end=data_end)
    return labels.set_index("invoice_id")["late"]


def _labelled(
    scores: pd.DataFrame, frames: LedgerFrames, *, policy: PerformancePolicy, data_end: pd.Timestamp | None
) -> pd.DataFrame:
    parts = []
    for (as_of, entity), rows in scores.groupby(["as_of", "entity"], sort=True):
        y = outcomes(frames, pd.Timestamp(as_of), entity=str(entity), policy=policy, data_end=data_end)
        parts.append(rows.assign(outcome=rows["entity_id"].map(y).astype("float64")))
    return pd.concat(parts, ignore_index=True) if parts else scores.assign(outcome=np.nan)


def period_metrics(rows: pd.DataFrame, *, policy: PerformancePolicy) -> dict[str, Any]:
    """One period of one model version: counts, ROC-AUC, ECE, mean predicted vs observed, capture."""
    from training.metrics import classification_metrics, expected_calibration_error

    matured = rows[rows["outcome"].notna()]
    y, p = matured["outcome"].to_numpy(), matured["probability"].to_numpy()
    out: dict[str, Any] = {
        "n_scored": len(rows),
        "n_labelled": len(matured),
        "n_bad": int(y.sum()),
        "scoring_dates": sorted({str(d.date()) for d in rows["as_of"]}),
        "mean_predicted": float(p.mean()) if len(p) else None,
        "observed_rate": float(y.mean()) if len(y) else None,
    }
    metrics = classification_metrics(y, p) if len(y) else {}
    out["roc_auc"] = _finite(metrics.get("roc_auc"))
    out["capture_rate"] = _finite(metrics.get("top_decile_capture"))
    out["ece"] = float(expected_calibration_error(y, p, n_bins=policy.n_calibration_bins)) if len(y) else None
    out["judged"] = len(matured) >= policy.min_labelled and out["n_bad"] >= policy.min_bad
    return out


def _finite(value: float | None) -> float | None:
    return float(value) if value is not None and np.isfinite(value) else None


def expected_auc(model: str, version: int, *, tracking_uri: str | None = None) -> float | None:
    """The version's validation ROC-AUC from its registry tag ``metric.valid_roc_auc`` (None if absent)."""
    try:
        from mlflow import MlflowClient

        from models.registry import tracking_uri as set_tracking_uri

        set_tracking_uri(tracking_uri)
        tag = MlflowClient().get_model_version(model, str(version)).tags.get("metric.valid_roc_auc")
        return float(tag) if tag is not None else None
    except Exception:  # no registry or no such version: the drop cannot be judged, the rest still can
        return None


def compute_performance(
    engine: Engine,
    frames: LedgerFrames,
    *,
    model: str | None = None,
    policy: PerformancePolicy | None = None,
    data_end: pd.Timestamp | str | None = None,
    tracking_uri: str | None = None,
    store: bool = True,
) -> list[dict[str, Any]]:
    """Realised performance per model, version and scoring month; stored in ``monitoring_results``."""
    policy = policy or PerformancePolicy()
    scores = served_scores(engine, model_name=model)
    if scores.empty:
        return []
    end = pd.Timestamp(data_end) if data_end is not None else None
    labelled = _labelled(scores, frames, policy=policy, data_end=end)
    labelled["period"] = labelled["as_of"].dt.strftime("%Y-%m")
    series = []
    for (name, version, period), rows in labelled.groupby(
        ["model_name", "model_version", "period"], sort=True
    ):
        result = {
            "model": name,
            "version": int(version),
            "period": period,
            **period_metrics(rows, policy=policy),
        }
        result["expected_roc_auc"] = expected_auc(str(name), int(version), tracking_uri=tracking_uri)
        if result["expected_roc_auc"] is not None and result["roc_auc"] is not None:
            result["auc_drop"] = result["expected_roc_auc"] - result["roc_auc"]
        else:
            result["auc_drop"] = None
        series.append(result)
        if store:
            save_result(
                engine,
                kind="performance",
                model=str(name),
                version=int(version),
                period=str(period),
                payload=result,
                replace=True,
            )
    return series


def performance_series(engine: Engine, model: str | None = None) -> list[dict[str, Any]]:
    """The stored realised-performance series (for ``GET /v1/monitoring/performance``)."""
    return load_results(engine, kind="performance", model=model)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def performance_text(series: list[dict[str, Any]]) -> str:
    """One line per model version and month: counts, realised AUC and its drop, ECE, capture."""
    head = (
        f"{'model':<14}{'ver':>4} {'month':<8}{'scored':>7}{'labelled':>9}{'bad':>5}{'AUC':>7}{'drop':>7}"
        f"{'ECE':>7}{'pred':>7}{'obs':>7}{'capture':>8}  judged"
    )
    lines = [head]
    for r in series:
        lines.append(
            f"{r['model']:<14}{r['version']:>4} {r['period']:<8}{r['n_scored']:>7}{r['n_labelled']:>9}"
            f"{r['n_bad']:>5}{_fmt(r['roc_auc']):>7}{_fmt(r['auc_drop']):>7}{_fmt(r['ece']):>7}"
            f"{_fmt(r['mean_predicted']):>7}{_fmt(r['observed_rate']):>7}{_fmt(r['capture_rate']):>8}"
            f"  {'yes' if r['judged'] else 'no'}"
        )
    return "\n".join(lines)
