"""Score feature rows with the served models and explain them (no FastAPI here).

The hot path works on a NumPy matrix in the model's feature order and calls the fitted booster and
calibrator (``RiskModel.booster_`` / ``calibrator_``) directly with one thread: for a handful of rows,
DataFrame checks and OpenMP start-up cost more than the trees. Results equal ``predict_proba``/``explain``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from arrisk.errors import ValidationError
from serving.model_store import ModelStore
from serving.scoring.schemas import (
    Explanation,
    FeatureContribution,
    RiskModelName,
    ScoredRow,
    ScoreRequest,
    ScoreResponse,
)

SMALL_BATCH = 2_000


def feature_matrix(rows: list[dict[str, float | None]], features: list[str]) -> np.ndarray:
    """Rows as a float matrix in ``features`` order (None -> NaN); a missing feature is a 422 naming it."""
    missing = sorted({f for r in rows for f in features if f not in r})
    if missing:
        shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
        raise ValidationError(f"rows: missing features {shown} ({len(missing)} of {len(features)} required)")
    return np.array([[np.nan if r[f] is None else r[f] for f in features] for r in rows], dtype="float64")


def _threads(n: int) -> int:
    return 1 if n < SMALL_BATCH else 0  # 0 = LightGBM's default (all cores)


def raw_scores(model: Any, matrix: np.ndarray) -> np.ndarray:
    return np.asarray(model.booster_.predict(matrix, raw_score=True, num_threads=_threads(len(matrix))))


def contributions(model: Any, matrix: np.ndarray) -> np.ndarray:
    """SHAP values per feature plus the base value in the last column (LightGBM TreeSHAP)."""
    return np.asarray(model.booster_.predict(matrix, pred_contrib=True, num_threads=_threads(len(matrix))))


def explain_matrix(loaded: Any, name: RiskModelName, matrix: np.ndarray) -> list[Explanation]:
    """Full explanation of each row: base value + contributions == raw score; probability calibrated."""
    model = loaded.model
    contrib = contributions(model, matrix)
    raw = contrib.sum(axis=1)
    proba = model.calibrator_.transform(raw)
    names = model.feature_names_
    out = []
    for i in range(len(matrix)):
        c = contrib[i, :-1]
        items = [
            FeatureContribution(
                feature=names[j],
                contribution=float(c[j]),
                value=None if np.isnan(matrix[i, j]) else float(matrix[i, j]),
            )
            for j in np.argsort(-np.abs(c), kind="stable")
        ]
        out.append(
            Explanation(
                model=name,
                version=loaded.version,
                base_value=float(contrib[i, -1]),
                raw_score=float(raw[i]),
                probability=float(proba[i]),
                contributions=items,
            )
        )
    return out


def explanation_of(loaded: Any, name: RiskModelName, frame: pd.DataFrame) -> list[Explanation]:
    missing = [f for f in loaded.model.feature_names_ if f not in frame.columns]
    if missing:
        raise ValidationError(f"model {name.value}: features {missing[:5]} are missing")
    return explain_matrix(loaded, name, frame[loaded.model.feature_names_].to_numpy(dtype="float64"))


def score_rows(models: ModelStore, request: ScoreRequest) -> ScoreResponse:
    """Calibrated probabilities (and raw scores) of the rows; 503 when the model is not loaded."""
    loaded = models.get(request.model.value)
    matrix = feature_matrix(request.rows, list(loaded.model.feature_names_))
    if request.explain:
        scores = [
            ScoredRow(probability=e.probability, raw_score=e.raw_score, explanation=e)
            for e in explain_matrix(loaded, request.model, matrix)
        ]
    else:
        raw = raw_scores(loaded.model, matrix)
        proba = loaded.model.calibrator_.transform(raw)
        scores = [
            ScoredRow(probability=float(p), raw_score=float(r)) for p, r in zip(proba, raw, strict=True)
        ]
    return ScoreResponse(
        model=request.model,
        version=loaded.version,
        feature_set_version=loaded.feature_set_version or "",
        scores=scores,
    )
