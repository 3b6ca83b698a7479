"""Evaluation metrics of a probability of a bad outcome, and of days-late quantiles."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score


def ks_statistic(y: np.ndarray, score: np.ndarray) -> float:
    """Largest gap between the score distributions of bad and good outcomes (Kolmogorov-Smirnov)."""
    score = np.asarray(score, dtype="float64")
    order = np.argsort(-score, kind="mergesort")
    y_sorted = np.asarray(y, dtype="float64")[order]
    bad = np.cumsum(y_sorted) / max(y_sorted.sum(), 1.0)
    good = np.cumsum(1 - y_sorted) / max((1 - y_sorted).sum(), 1.0)
    # only at the end of a run of tied scores: a threshold cannot split equal scores
    last_of_tie = np.append(np.diff(score[order]) != 0, True)
    return float(np.max(np.abs(bad - good)[last_of_tie]))


def expected_calibration_error(y: np.ndarray, proba: np.ndarray, *, n_bins: int = 10) -> float:
    """Row-weighted mean |observed rate - mean probability| over equal-width probability bins."""
    y = np.asarray(y, dtype="float64")
    bins = np.minimum((np.asarray(proba) * n_bins).astype(int), n_bins - 1)
    total = 0.0
    for b in np.unique(bins):
        mask = bins == b
        total += mask.sum() * abs(y[mask].mean() - proba[mask].mean())
    return float(total / len(y))


def top_decile_capture(y: np.ndarray, score: np.ndarray) -> float:
    """Share of all bad outcomes that fall in the riskiest 10% of rows."""
    y = np.asarray(y, dtype="float64")
    k = max(1, int(np.ceil(len(y) * 0.1)))
    top = np.argsort(-score, kind="mergesort")[:k]
    return float(y[top].sum() / max(y.sum(), 1.0))


def classification_metrics(y: np.ndarray | pd.Series, proba: np.ndarray) -> dict[str, float]:
    """ROC-AUC, PR-AUC, KS, Brier, log loss, ECE, top-decile capture and base rates; NaN if one class."""
    y = np.asarray(y, dtype="float64")
    proba = np.clip(np.asarray(proba, dtype="float64"), 1e-7, 1 - 1e-7)
    out = {
        "n": float(len(y)),
        "bad_rate": float(y.mean()) if len(y) else float("nan"),
        "mean_proba": float(proba.mean()) if len(y) else float("nan"),
    }
    if len(np.unique(y)) < 2:
        nan = float("nan")
        return {
            **out,
            "roc_auc": nan,
            "pr_auc": nan,
            "ks": nan,
            "brier": nan,
            "log_loss": nan,
            "ece": nan,
            "top_decile_capture": nan,
        }
    return {
        **out,
        "roc_auc": float(roc_auc_score(y, proba)),
        "pr_auc": float(average_precision_score(y, proba)),
        "ks": ks_statistic(y, proba),
        "brier": float(brier_score_loss(y, proba)),
        "log_loss": float(log_loss(y, proba, labels=[0, 1])),
        "ece": expected_calibration_error(y, proba),
        "top_decile_capture": top_decile_capture(y, proba),
    }


def pinball_loss(y: np.ndarray, q_pred: np.ndarray, alpha: float) -> float:
    """Mean quantile (pinball) loss of predictions of the ``alpha`` quantile."""
    diff = np.asarray(y, dtype="float64") - np.asarray(q_pred, dtype="float64")
    return float(np.mean(np.maximum(alpha * diff, (alpha - 1) * diff)))


def quantile_metrics(days_late: np.ndarray | pd.Series, quantiles: pd.DataFrame) -> dict[str, float]:
    """Pinball loss per quantile, coverage of the p10..p90 interval (target 0.8) and MAE of p50."""
    y = np.asarray(days_late, dtype="float64")
    out = {
        f"pinball_{col}": pinball_loss(y, quantiles[col].to_numpy(), int(col[1:]) / 100)
        for col in quantiles.columns
    }
    inside = (y >= quantiles["p10"].to_numpy()) & (y <= quantiles["p90"].to_numpy())
    out["coverage_p10_p90"] = float(inside.mean())
    out["mae_p50"] = float(np.mean(np.abs(y - quantiles["p50"].to_numpy())))
    out["n"] = float(len(y))
    return out
