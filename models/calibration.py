"""Probability calibrators fitted on out-of-fold raw margins: isotonic or Platt (logistic) scaling."""

from __future__ import annotations

from typing import Literal

import numpy as np
from sklearn.exceptions import NotFittedError
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

CalibrationMethod = Literal["isotonic", "platt", "none"]


class Calibrator:
    """Maps a raw LightGBM margin to a probability; never decreasing in the margin.

    Isotonic regression is a step function, so the calibrated score can tie where the margin differs;
    Platt scaling is a logistic curve on the margin and keeps strict order.
    """

    def __init__(self, method: CalibrationMethod = "isotonic") -> None:
        self.method = method

    def fit(self, raw: np.ndarray, y: np.ndarray) -> Calibrator:
        raw = np.asarray(raw, dtype="float64").ravel()
        y = np.asarray(y, dtype="float64").ravel()
        if self.method == "isotonic":
            iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0, increasing=True)
            self.estimator_ = iso.fit(raw, y)
        elif self.method == "platt":
            self.estimator_ = LogisticRegression(C=1e6).fit(raw.reshape(-1, 1), y.astype(int))
        else:
            self.estimator_ = None
        return self

    def transform(self, raw: np.ndarray) -> np.ndarray:
        if not hasattr(self, "estimator_"):
            raise NotFittedError("Calibrator is not fitted: call fit(raw_margins, labels) first")
        raw = np.asarray(raw, dtype="float64").ravel()
        if self.method == "isotonic":
            # Clip away exact 0/1 so log loss stays finite on unseen extremes.
            return np.clip(self.estimator_.predict(raw), 1e-6, 1 - 1e-6)
        if self.method == "platt":
            return self.estimator_.predict_proba(raw.reshape(-1, 1))[:, 1]
        return 1.0 / (1.0 + np.exp(-raw))
