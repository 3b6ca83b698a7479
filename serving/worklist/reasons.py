"""SHAP contributions turned into reasons a collector understands (templates in the worklist policy)."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np


@lru_cache(maxsize=1)
def _definitions() -> dict[str, str]:
    try:
        from features.catalogue import CATALOGUE

        return dict(CATALOGUE)
    except Exception:  # the catalogue is optional: reasons then name the feature
        return {}


def reason_text(feature: str, value: float, templates: dict[str, str]) -> str:
    """One feature and its value in words; unknown values and features fall back to the definition."""
    definition = _definitions().get(feature, feature.replace("_", " "))
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"no history yet: {definition}"
    template = templates.get(feature)
    if template:
        try:
            return template.format(value=value)
        except (ValueError, KeyError, IndexError):
            pass
    return f"{definition}: {value:,.4g}"


def top_reasons(
    contributions: np.ndarray,
    values: np.ndarray,
    features: list[str],
    templates: dict[str, str],
    *,
    k: int = 3,
) -> list[list[dict[str, object]]]:
    """Per row, the ``k`` features that push the risk up most (positive SHAP contribution), in words."""
    if contributions.size == 0:
        return [[] for _ in range(contributions.shape[0])]
    k = min(k, contributions.shape[1])
    top = np.argpartition(-contributions, k - 1, axis=1)[:, :k]
    order = np.take_along_axis(contributions, top, axis=1).argsort(axis=1)[:, ::-1]
    top = np.take_along_axis(top, order, axis=1)
    out: list[list[dict[str, object]]] = []
    for row, cols in enumerate(top):
        reasons = []
        for col in cols:
            contribution = float(contributions[row, col])
            if contribution <= 0:
                break
            value = float(values[row, col])
            reasons.append(
                {
                    "feature": features[col],
                    "value": None if math.isnan(value) else value,
                    "contribution": round(contribution, 6),
                    "text": reason_text(features[col], value, templates),
                }
            )
        out.append(reasons)
    return out
