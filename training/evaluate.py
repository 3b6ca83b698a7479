"""End-to-end evaluation on public data: load -> ledger frames -> as-of features -> train -> metrics.

Every protocol keeps its test rows out of fitting, early stopping, calibration and every choice of
settings (early stopping and the calibrator use K-fold inside the training rows). The protocols live
in ``training.evaluate_uci``, ``training.evaluate_ibm`` and ``training.evaluate_home``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from arrisk.errors import NotFoundError, ValidationError
from models.risk_model import RiskModel
from training.baselines import DaysPastDueRule, Scorecard, dpd_column
from training.config import EvaluationConfig, load_evaluation_config
from training.metrics import classification_metrics

DATASETS = ("uci-credit", "ibm-ar", "home-credit")
MAX_BOOST_ROUNDS = 3000  # low learning rates need more than RiskModel's default 1000 before early stopping


def protocol_config(dataset: str) -> EvaluationConfig:
    """The built-in protocol of ``dataset``."""
    return load_evaluation_config(None, dataset)


def fit_best(
    X_train: pd.DataFrame,
    y_train: np.ndarray,
    X_test: pd.DataFrame,
    *,
    name: str,
    cfg: EvaluationConfig,
    groups: np.ndarray | None = None,
    monotone: Any = "auto",
    score: Callable[[RiskModel], float] | None = None,
) -> tuple[RiskModel, np.ndarray]:
    """Fit every candidate (K-fold early stopping + OOF calibration), keep the best by OOF ROC-AUC,
    or by ``score(model)`` (e.g. a time-ordered CV on the training rows) where given."""
    from sklearn.metrics import roc_auc_score

    best: tuple[float, RiskModel] | None = None
    for label, params in cfg.candidates.items():
        model = RiskModel(
            name,
            n_folds=cfg.n_folds,
            monotone=monotone,
            random_state=cfg.seed,
            params=params,
            calibration=cfg.calibration,
            num_boost_round=MAX_BOOST_ROUNDS,
        )
        model.fit(X_train, y_train, groups=groups)
        model.metrics_ = {"oof_roc_auc": float(roc_auc_score(y_train, model.oof_raw_))}
        model.candidate_ = label  # type: ignore[attr-defined]
        chosen_by = model.metrics_["oof_roc_auc"]
        if score is not None:
            chosen_by = model.metrics_["selection_score"] = float(score(model))
        if best is None or chosen_by > best[0]:
            best = (chosen_by, model)
    assert best is not None
    return best[1], best[1].predict_proba(X_test)


def model_row(model: RiskModel, y_test: np.ndarray, proba: np.ndarray, **extra: Any) -> dict[str, Any]:
    """The result row of a fitted candidate: what was chosen, its OOF and its test metrics."""
    return {
        **extra,
        "candidate": getattr(model, "candidate_", None),
        "n_trees": model.best_iteration_,
        **model.metrics_,
        **classification_metrics(y_test, proba),
    }


def varying_columns(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    """Columns that take more than one value on ``frame`` (the training rows): constants carry nothing."""
    return [c for c in columns if frame[c].nunique(dropna=False) > 1]


def baselines(X_train: pd.DataFrame, y_train: np.ndarray, X_test: pd.DataFrame, y_test: np.ndarray) -> dict:
    """Scorecard and days-past-due rule fitted on the training rows, scored on the test rows."""
    out: dict[str, Any] = {
        "scorecard": classification_metrics(y_test, Scorecard().fit(X_train, y_train).predict_proba(X_test))
    }
    column = dpd_column(list(X_train.columns))
    if column:
        rule = DaysPastDueRule(column).fit(X_train, y_train)
        out["dpd_rule"] = {"column": column, **classification_metrics(y_test, rule.predict_proba(X_test))}
    return out


def _evaluator(dataset: str) -> Any:
    if dataset == "uci-credit":
        from training.evaluate_uci import evaluate_uci

        return evaluate_uci
    if dataset == "ibm-ar":
        from training.evaluate_ibm import evaluate_ibm

        return evaluate_ibm
    from training.evaluate_home import evaluate_home

    return evaluate_home


def run_evaluation(dataset: str, folder: Path, *, config: EvaluationConfig | None = None) -> dict[str, Any]:
    """Run the protocol of ``dataset`` (``config`` or the built-in one) on the data under ``folder``."""
    if dataset not in DATASETS:
        raise NotFoundError(f"--dataset {dataset!r}: evaluations exist for {sorted(DATASETS)}")
    cfg = config or protocol_config(dataset)
    if cfg.dataset != dataset:
        raise ValidationError(f"evaluation config is for {cfg.dataset!r}, not --dataset {dataset!r}")
    started = time.perf_counter()
    result = _evaluator(dataset)(Path(folder), cfg)
    return {
        "dataset": dataset,
        "seconds": round(time.perf_counter() - started, 1),
        "config": cfg.model_dump(mode="json"),
        **result,
    }
