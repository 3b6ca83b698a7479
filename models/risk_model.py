"""RiskModel: a LightGBM classifier of a bad outcome with an out-of-fold calibrator and SHAP explanations."""

from __future__ import annotations

import os
import re
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from arrisk.errors import ValidationError
from models.calibration import CalibrationMethod, Calibrator

MODEL_NAMES = ("late_payment", "default_risk")

DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "binary",
    # Early stopping on log loss: smoother than AUC on small folds, and it is what calibration cares about.
    "metric": "binary_logloss",
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "verbose": -1,
    "deterministic": True,
    "force_row_wise": True,
}

# Features whose growth can only mean more risk: more days past due, a larger share paid late.
RISK_INCREASING = re.compile(r"days_past_due|dpd|share_late|late_share|pay_status")
# Below this many rows one thread beats several: OpenMP start-up and spin-waiting cost more than the
# split search, badly so with monotone constraints on a busy machine.
SINGLE_THREAD_ROWS = 200_000


def default_monotone(feature_names: list[str]) -> dict[str, int]:
    """+1 constraints for features where a higher value must never lower the risk."""
    return {name: 1 for name in feature_names if RISK_INCREASING.search(name.lower())}


class RiskModel:
    """Calibrated probability of a bad outcome (late payment of an invoice, or customer default).

    ``fit`` picks the number of trees by early stopping (on ``eval_set`` when given, else by K-fold CV),
    fits the calibrator on out-of-fold raw margins, and trains the served booster on all rows.
    Class imbalance is left in the data on purpose: no reweighting, so margins stay close to log-odds
    and the calibrator, not a weight, sets the probability level.
    """

    def __init__(
        self,
        name: str = "default_risk",
        *,
        params: dict[str, Any] | None = None,
        num_boost_round: int = 1000,
        early_stopping_rounds: int = 50,
        calibration: CalibrationMethod = "isotonic",
        n_folds: int = 4,
        monotone: dict[str, int] | str | None = "auto",
        random_state: int = 0,
    ) -> None:
        self.name = name
        self.params = params
        self.num_boost_round = num_boost_round
        self.early_stopping_rounds = early_stopping_rounds
        self.calibration = calibration
        self.n_folds = n_folds
        self.monotone = monotone
        self.random_state = random_state

    # ---------------------------------------------------------------- fitting
    def fit(
        self,
        X: pd.DataFrame,
        y: pd.Series | np.ndarray,
        *,
        eval_set: tuple[pd.DataFrame, pd.Series | np.ndarray] | None = None,
        groups: pd.Series | np.ndarray | None = None,
        feature_set_version: str = "custom",
        dask_client: Any | None = None,
    ) -> RiskModel:
        """Fit booster and calibrator; ``groups`` (e.g. customer ids) keep a group inside one CV fold.

        With ``dask_client`` the final booster is trained by ``lightgbm.dask`` (training.distributed).
        """
        y_arr = _labels(y, "y")
        self.feature_names_ = [str(c) for c in X.columns]
        self.monotone_constraints_ = self._monotone()
        params = self._lgb_params(len(y_arr))
        train_set = lgb.Dataset(self._matrix(X), label=y_arr, free_raw_data=False)
        folds = self._folds(y_arr, groups)
        if eval_set is not None:
            valid = lgb.Dataset(self._matrix(eval_set[0]), label=_labels(eval_set[1], "eval_set y"))
            probe = lgb.train(
                params,
                train_set,
                num_boost_round=self.num_boost_round,
                valid_sets=[valid],
                callbacks=[lgb.early_stopping(self.early_stopping_rounds, verbose=False)],
            )
            self.best_iteration_ = max(int(probe.best_iteration or self.num_boost_round), 1)
            cv = lgb.cv(
                params, train_set, num_boost_round=self.best_iteration_, folds=folds, return_cvbooster=True
            )
        else:
            cv = lgb.cv(
                params,
                train_set,
                num_boost_round=self.num_boost_round,
                folds=folds,
                callbacks=[lgb.early_stopping(self.early_stopping_rounds, verbose=False)],
                return_cvbooster=True,
            )
            self.best_iteration_ = max(int(cv["cvbooster"].best_iteration or self.num_boost_round), 1)  # type: ignore[union-attr]
        self.oof_raw_ = self._out_of_fold(cv["cvbooster"], X, folds, len(y_arr))  # type: ignore[arg-type]
        self.calibrator_ = Calibrator(self.calibration).fit(self.oof_raw_, y_arr)
        if dask_client is not None:
            from training.distributed import dask_booster

            self.booster_ = dask_booster(
                dask_client, params, self._matrix(X), y_arr, num_boost_round=self.best_iteration_
            )
        else:
            self.booster_ = lgb.train(params, train_set, num_boost_round=self.best_iteration_)
        self.name_ = self.name
        self.feature_set_version_ = feature_set_version
        self.base_rate_ = float(y_arr.mean())
        self.n_train_ = int(len(y_arr))
        self.metrics_: dict[str, float] = {}
        return self

    def _lgb_params(self, n_rows: int) -> dict[str, Any]:
        threads = 1 if n_rows < SINGLE_THREAD_ROWS else (os.cpu_count() or 1)
        params = {**DEFAULT_PARAMS, "num_threads": threads, **(self.params or {}), "seed": self.random_state}
        if self.monotone_constraints_:
            params["monotone_constraints"] = [
                self.monotone_constraints_.get(f, 0) for f in self.feature_names_
            ]
        return params

    def _monotone(self) -> dict[str, int]:
        if self.monotone == "auto":
            return default_monotone(self.feature_names_)
        if not self.monotone:
            return {}
        unknown = sorted(set(self.monotone) - set(self.feature_names_))
        if unknown:
            raise ValidationError(f"monotone constraints name unknown features {unknown}")
        return dict(self.monotone)  # type: ignore[arg-type]

    def _folds(
        self, y: np.ndarray, groups: pd.Series | np.ndarray | None
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        n_folds = int(min(self.n_folds, max(2, min(np.bincount(y.astype(int), minlength=2)))))
        index = np.zeros(len(y))
        if groups is not None:
            splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=self.random_state)
            return list(splitter.split(index, y, groups=np.asarray(groups)))
        splitter_plain = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=self.random_state)
        return list(splitter_plain.split(index, y))

    def _out_of_fold(self, cvbooster: lgb.CVBooster, X: pd.DataFrame, folds: list, n: int) -> np.ndarray:
        oof = np.zeros(n, dtype="float64")
        matrix = self._matrix(X)
        for booster, (_, test_idx) in zip(cvbooster.boosters, folds, strict=True):
            oof[test_idx] = booster.predict(
                matrix.iloc[test_idx], raw_score=True, num_iteration=self.best_iteration_
            )
        return oof

    # ---------------------------------------------------------------- scoring
    def _matrix(self, X: pd.DataFrame) -> pd.DataFrame:
        self._check_fitted_names()
        missing = [c for c in self.feature_names_ if c not in X.columns]
        if missing:
            raise ValidationError(f"{self.name}: input lacks model features {missing}")
        matrix = X[self.feature_names_]
        bad = [c for c in matrix.columns if matrix[c].dtype == object]
        if bad:
            raise ValidationError(f"{self.name}: features {bad} are text; the model needs numbers")
        return matrix.astype({c: "float64" for c in matrix.columns if matrix[c].dtype == bool})

    def _check_fitted_names(self) -> None:
        if not hasattr(self, "feature_names_"):
            raise NotFittedError(f"RiskModel {self.name!r} is not fitted: call fit(X, y) first")

    def _check_fitted(self) -> None:
        if not hasattr(self, "booster_"):
            raise NotFittedError(f"RiskModel {self.name!r} is not fitted: call fit(X, y) first")

    def predict_raw(self, X: pd.DataFrame) -> np.ndarray:
        """Raw booster margin (log-odds scale, before calibration)."""
        self._check_fitted()
        matrix = self._matrix(X)
        raw = self.booster_.predict(matrix, raw_score=True, num_threads=batch_threads(len(X)))
        return np.asarray(raw, dtype="float64")

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of the bad outcome, one value per row."""
        self._check_fitted()
        return self.calibrator_.transform(self.predict_raw(X))

    def explain(self, X: pd.DataFrame) -> tuple[pd.DataFrame, float]:
        """SHAP contributions per feature (raw-margin scale) and the base value; they sum to the margin."""
        self._check_fitted()
        contrib = self.booster_.predict(self._matrix(X), pred_contrib=True, num_threads=batch_threads(len(X)))
        frame = pd.DataFrame(contrib[:, :-1], columns=self.feature_names_, index=X.index)  # type: ignore[call-overload]
        return frame, float(contrib[0, -1]) if len(contrib) else 0.0  # type: ignore[call-overload]

    @property
    def feature_importance_(self) -> pd.Series:
        """Total gain per feature, largest first."""
        self._check_fitted()
        gain = self.booster_.feature_importance(importance_type="gain")
        return pd.Series(gain, index=self.feature_names_).sort_values(ascending=False)

    def __repr__(self) -> str:
        fitted = f", trees={self.best_iteration_}" if hasattr(self, "booster_") else ""
        return f"RiskModel(name={self.name!r}, calibration={self.calibration!r}{fitted})"


# Below this many rows one thread answers sooner than waking a pool (a request's few rows);
# batch scoring and explanations (the worklist refresh) use every core.
BATCH_ROWS = 2_000


def batch_threads(n_rows: int) -> int:
    """LightGBM ``num_threads`` for predicting ``n_rows`` rows: 1 for small batches, 0 (all cores) else."""
    return 1 if n_rows < BATCH_ROWS else 0


def _labels(y: pd.Series | np.ndarray, what: str) -> np.ndarray:
    arr = np.asarray(y, dtype="float64")
    if np.isnan(arr).any() or not np.isin(arr, (0.0, 1.0)).all():
        raise ValidationError(f"{what}: labels must be 0 or 1 with no missing values")
    if arr.min() == arr.max():
        raise ValidationError(f"{what}: only one class ({int(arr[0])}) present; cannot fit a classifier")
    return arr
