"""Evaluation figures (matplotlib Agg, no display): ROC, PR, calibration, importance, SHAP summary."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def _figure() -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(5.5, 4.5))


def roc_figure(y: np.ndarray, scores: dict[str, np.ndarray]) -> Any:
    from sklearn.metrics import roc_curve

    fig, ax = _figure()
    for label, s in scores.items():
        fpr, tpr, _ = roc_curve(y, s)
        ax.plot(fpr, tpr, label=label)
    ax.plot([0, 1], [0, 1], ls=":", c="grey")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (out of time)")
    ax.legend(loc="lower right")
    return fig


def pr_figure(y: np.ndarray, scores: dict[str, np.ndarray]) -> Any:
    from sklearn.metrics import precision_recall_curve

    fig, ax = _figure()
    for label, s in scores.items():
        precision, recall, _ = precision_recall_curve(y, s)
        ax.plot(recall, precision, label=label)
    ax.axhline(float(np.mean(y)), ls=":", c="grey")
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall (out of time)")
    ax.legend(loc="upper right")
    return fig


def calibration_figure(y: np.ndarray, proba: np.ndarray, *, n_bins: int = 10) -> Any:
    fig, ax = _figure()
    bins = pd.qcut(proba, n_bins, duplicates="drop")
    table = pd.DataFrame({"p": proba, "y": y}).groupby(bins, observed=True).mean()
    ax.plot(table["p"], table["y"], marker="o", label="model")
    top = float(max(table["p"].max(), table["y"].max()))
    ax.plot([0, top], [0, top], ls=":", c="grey", label="perfect")
    ax.set(xlabel="mean predicted probability", ylabel="observed rate", title="Calibration (deciles)")
    ax.legend(loc="upper left")
    return fig


def importance_figure(importance: pd.Series, *, top: int = 20) -> Any:
    fig, ax = _figure()
    shown = importance.head(top)[::-1]
    ax.barh(shown.index, shown.to_numpy())
    ax.set(xlabel="total gain", title="Feature importance")
    fig.tight_layout()
    return fig


def shap_summary_figure(contrib: pd.DataFrame, X: pd.DataFrame) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import shap

    shap.summary_plot(contrib.to_numpy(), X[contrib.columns], show=False, max_display=20)
    fig = plt.gcf()
    fig.tight_layout()
    return fig
