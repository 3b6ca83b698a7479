"""Baselines logged beside LightGBM: a binned-feature logistic scorecard and a days-past-due rule."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import KBinsDiscretizer, OneHotEncoder


class Scorecard:
    """Logistic regression on quantile-binned features (one-hot bins, missing as its own bin)."""

    def __init__(self, *, n_bins: int = 10, C: float = 0.1, random_state: int = 0) -> None:
        self.n_bins = n_bins
        self.C = C
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> Scorecard:
        self.feature_names_ = list(X.columns)
        matrix = self._binned(X, fit=True)
        self.logit_ = LogisticRegression(C=self.C, max_iter=2000).fit(matrix, np.asarray(y, int))
        return self

    def _binned(self, X: pd.DataFrame, *, fit: bool) -> np.ndarray:
        values = X[self.feature_names_].astype("float64")
        if fit:
            self.fill_ = values.median().fillna(0.0)
            self.binner_ = make_pipeline(
                KBinsDiscretizer(
                    n_bins=self.n_bins,
                    encode="ordinal",
                    strategy="quantile",
                    quantile_method="averaged_inverted_cdf",
                    subsample=200_000,
                    random_state=self.random_state,
                ),
                OneHotEncoder(handle_unknown="ignore"),
            )
            with warnings.catch_warnings():  # constant and near-constant columns are expected
                warnings.simplefilter("ignore", UserWarning)
                binned = self.binner_.fit_transform(values.fillna(self.fill_))
        else:
            binned = self.binner_.transform(values.fillna(self.fill_))
        missing = values.isna().to_numpy(dtype="float64")
        return np.hstack([binned.toarray(), missing])

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.logit_.predict_proba(self._binned(X, fit=False))[:, 1]


DPD_PATTERN = re.compile(r"oldest_days_past_due|days_past_due|dpd|pay_0|days_late_max")


def dpd_column(columns: list[str]) -> str | None:
    """The feature the rule uses: the first days-past-due-like column, in pattern order."""
    for key in DPD_PATTERN.pattern.split("|"):
        for col in columns:
            if key in col.lower():
                return col
    return None


class DaysPastDueRule:
    """Risk = observed bad rate per days-past-due band (0, 1-30, 31-60, 61-90, 90+) in training."""

    EDGES = (-np.inf, 0, 30, 60, 90, np.inf)

    def __init__(self, column: str) -> None:
        self.column = column

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> DaysPastDueRule:
        bands = pd.cut(X[self.column].fillna(0), self.EDGES, labels=False)
        rates = pd.Series(np.asarray(y, float)).groupby(np.asarray(bands)).mean()
        self.rates_ = rates.to_dict()
        self.base_rate_ = float(np.mean(y))
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        bands = pd.cut(X[self.column].fillna(0), self.EDGES, labels=False)
        # tiny slope on the raw value breaks ties inside a band in the days-past-due order
        rate = pd.Series(bands).map(self.rates_).fillna(self.base_rate_).to_numpy(dtype="float64")
        return np.clip(rate + 1e-6 * np.tanh(X[self.column].fillna(0).to_numpy(float) / 365), 0, 1)
