"""Fit the LightGBM risk model and its baselines on a training table and evaluate them out of time."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from models.risk_model import RiskModel
from training.baselines import DaysPastDueRule, Scorecard, dpd_column
from training.config import ExperimentConfig, GateSpec, LightGBMSpec
from training.metrics import classification_metrics
from training.validation import TrainingTable, rolling_origins


@dataclass
class RunSpec:
    """How to train one model: the parts of an experiment config that do not concern data."""

    name: str
    model: str = "default_risk"
    lightgbm: LightGBMSpec = field(default_factory=LightGBMSpec)
    calibration: str = "isotonic"
    baselines: list[str] = field(default_factory=lambda: ["scorecard", "dpd_rule"])
    backtest_origins: int = 3
    embargo_days: int = 0
    early_stopping: str = "valid"
    gate: GateSpec = field(default_factory=GateSpec)
    reference_rows: int = 50_000
    seed: int = 0

    @classmethod
    def from_config(cls, config: ExperimentConfig) -> RunSpec:
        embargo = config.label.horizon_days
        return cls(
            name=config.name,
            model=config.model,
            lightgbm=config.lightgbm,
            calibration=config.calibration,
            baselines=list(config.baselines),
            backtest_origins=config.backtest_origins,
            embargo_days=embargo,
            early_stopping=config.early_stopping,
            gate=config.gate,
            reference_rows=config.reference_rows,
            seed=config.seed,
        )

    def new_model(self) -> RiskModel:
        return RiskModel(
            self.model,
            params=self.lightgbm.params,
            num_boost_round=self.lightgbm.num_boost_round,
            early_stopping_rounds=self.lightgbm.early_stopping_rounds,
            calibration=self.calibration,  # type: ignore[arg-type]
            n_folds=self.lightgbm.n_folds,
            random_state=self.seed,
        )


@dataclass
class Evaluation:
    """A fitted model, its out-of-time scores and metrics, the baselines' metrics and the backtest."""

    model: RiskModel
    train_rows: pd.DataFrame
    valid_rows: pd.DataFrame
    valid_scores: dict[str, np.ndarray]
    metrics: dict[str, dict[str, float]]
    backtest: list[dict[str, Any]]

    def flat_metrics(self) -> dict[str, float]:
        """``valid_roc_auc`` for LightGBM, ``scorecard_valid_roc_auc`` for baselines, ``backtest_*`` means."""
        out: dict[str, float] = {}
        for who, values in self.metrics.items():
            prefix = "" if who == "lightgbm" else f"{who}_"
            out.update({f"{prefix}{k}": v for k, v in values.items()})
        for key in ("roc_auc", "pr_auc", "ece"):
            vals = [fold[key] for fold in self.backtest if np.isfinite(fold.get(key, np.nan))]
            if vals:
                out[f"backtest_{key}_mean"] = float(np.mean(vals))
                out[f"backtest_{key}_min"] = float(np.min(vals))
        return out


def fit_risk_model(
    table: TrainingTable, spec: RunSpec, train: pd.DataFrame, valid: pd.DataFrame
) -> RiskModel:
    """Early stopping on ``valid`` (spec.early_stopping == 'valid') or by CV inside ``train``."""
    from training.distributed import get_client

    eval_set = (table.X(valid), table.y(valid)) if spec.early_stopping == "valid" else None
    client = get_client()  # None unless ARRISK_DASK_SCHEDULER is set
    try:
        return spec.new_model().fit(
            table.X(train),
            table.y(train),
            eval_set=eval_set,
            groups=table.groups(train),
            feature_set_version=table.feature_set_version,
            dask_client=client,
        )
    finally:
        if client is not None:
            client.close()


def fit_baselines(table: TrainingTable, spec: RunSpec, train: pd.DataFrame) -> dict[str, Any]:
    fitted: dict[str, Any] = {}
    if "scorecard" in spec.baselines:
        fitted["scorecard"] = Scorecard(random_state=spec.seed).fit(table.X(train), table.y(train))
    column = dpd_column(table.features)
    if "dpd_rule" in spec.baselines and column is not None:
        fitted["dpd_rule"] = DaysPastDueRule(column).fit(table.X(train), table.y(train))
    return fitted


def evaluate(table: TrainingTable, spec: RunSpec, train: pd.DataFrame, valid: pd.DataFrame) -> Evaluation:
    """Fit on ``train``, score ``valid`` (out of time), run baselines and the rolling-origin backtest."""
    model = fit_risk_model(table, spec, train, valid)
    scores = {"lightgbm": model.predict_proba(table.X(valid))}
    for who, baseline in fit_baselines(table, spec, train).items():
        scores[who] = baseline.predict_proba(table.X(valid))
    y_valid = table.y(valid)
    metrics = {
        who: {f"valid_{k}": v for k, v in classification_metrics(y_valid, s).items()}
        for who, s in scores.items()
    }
    oof = model.calibrator_.transform(model.oof_raw_)
    metrics["lightgbm"].update(
        {f"train_oof_{k}": v for k, v in classification_metrics(table.y(train), oof).items()}
    )
    model.metrics_ = {k: v for k, v in metrics["lightgbm"].items() if np.isfinite(v)}
    return Evaluation(model, train, valid, scores, metrics, backtest(table, spec))


def backtest(table: TrainingTable, spec: RunSpec) -> list[dict[str, Any]]:
    """Rolling origin: refit at each origin on everything before it (minus the label embargo)."""
    folds = []
    for origin, train, valid in rolling_origins(
        table, n_origins=spec.backtest_origins, embargo_days=spec.embargo_days
    ):
        model = fit_risk_model(table, spec, train, valid)
        result = classification_metrics(table.y(valid), model.predict_proba(table.X(valid)))
        folds.append({"origin": str(pd.Timestamp(origin).date()), "n_train": len(train), **result})
    return folds
