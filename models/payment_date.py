"""PaymentDateModel: quantiles (p10, p50, p90) of an invoice's days late, one LightGBM model per quantile."""

from __future__ import annotations

import os
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.exceptions import NotFittedError

from arrisk.errors import ValidationError

QUANTILES = {"p10": 0.1, "p50": 0.5, "p90": 0.9}

DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "quantile",
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.9,
    "verbose": -1,
    "deterministic": True,
    "force_row_wise": True,
}


class PaymentDateModel:
    """Days late (negative = paid early) as three quantiles; the interval p10..p90 should hold ~80%."""

    def __init__(
        self,
        *,
        params: dict[str, Any] | None = None,
        num_boost_round: int = 300,
        early_stopping_rounds: int = 30,
        random_state: int = 0,
    ) -> None:
        self.params = params
        self.num_boost_round = num_boost_round
        self.early_stopping_rounds = early_stopping_rounds
        self.random_state = random_state

    def fit(
        self,
        X: pd.DataFrame,
        days_late: pd.Series | np.ndarray,
        *,
        eval_set: tuple[pd.DataFrame, pd.Series | np.ndarray] | None = None,
        feature_set_version: str = "custom",
    ) -> PaymentDateModel:
        target = np.asarray(days_late, dtype="float64")
        if np.isnan(target).any():
            raise ValidationError("days_late: missing values; train only on settled invoices")
        self.feature_names_ = [str(c) for c in X.columns]
        self.boosters_: dict[str, lgb.Booster] = {}
        for label, alpha in QUANTILES.items():
            threads = 1 if len(target) < 200_000 else (os.cpu_count() or 1)
            params = {
                **DEFAULT_PARAMS,
                "num_threads": threads,
                **(self.params or {}),
                "alpha": alpha,
                "seed": self.random_state,
            }
            train = lgb.Dataset(X[self.feature_names_], label=target)
            kwargs: dict[str, Any] = {}
            if eval_set is not None:
                valid = lgb.Dataset(eval_set[0][self.feature_names_], label=np.asarray(eval_set[1], float))
                kwargs = {
                    "valid_sets": [valid],
                    "callbacks": [lgb.early_stopping(self.early_stopping_rounds, verbose=False)],
                }
            self.boosters_[label] = lgb.train(params, train, num_boost_round=self.num_boost_round, **kwargs)
        self.feature_set_version_ = feature_set_version
        self.metrics_: dict[str, float] = {}
        return self

    def predict_quantiles(self, X: pd.DataFrame) -> pd.DataFrame:
        """Columns p10, p50, p90 of days late; sorted per row so the quantiles never cross."""
        if not hasattr(self, "boosters_"):
            raise NotFittedError("PaymentDateModel is not fitted: call fit(X, days_late) first")
        missing = [c for c in self.feature_names_ if c not in X.columns]
        if missing:
            raise ValidationError(f"payment_date: input lacks model features {missing}")
        matrix = X[self.feature_names_]
        raw = np.column_stack([self.boosters_[q].predict(matrix) for q in QUANTILES])
        return pd.DataFrame(np.sort(raw, axis=1), columns=list(QUANTILES), index=X.index)
