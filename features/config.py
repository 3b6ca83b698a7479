"""Windows and thresholds of the feature set: one pydantic model, read from ``features.yaml``."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_CONFIG_PATH = Path(__file__).with_name("features.yaml")


class FeatureConfig(BaseModel):
    """Every tunable number of the feature definitions; part of the feature-set version hash."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    late_thresholds_days: tuple[int, ...] = (0, 15, 30, 60)
    last_n_invoices: int = Field(5, ge=1)
    trend_n_invoices: int = Field(10, ge=2)
    activity_windows_days: tuple[int, ...] = (30, 90, 365)
    aging_bucket_edges_days: tuple[int, ...] = (30, 60, 90)
    due_soon_days: int = Field(30, ge=1)
    dunning_recent_days: int = Field(90, ge=1)
    promise_grace_days: int = Field(3, ge=0)
    partial_payment_share: float = Field(0.99, gt=0, le=1)
    paid_tolerance_abs: float = Field(0.01, ge=0)
    paid_tolerance_rel: float = Field(0.001, ge=0, lt=1)

    @field_validator("late_thresholds_days", "activity_windows_days", "aging_bucket_edges_days")
    @classmethod
    def _sorted_unique(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or list(value) != sorted(set(value)) or value[0] < 0:
            raise ValueError(f"must be non-empty, increasing, non-negative day counts, got {list(value)}")
        return value

    def fingerprint(self) -> str:
        """Stable hash of the settings (sorted JSON)."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


def load_config(path: Path | None = None) -> FeatureConfig:
    """Parse a features YAML (the packaged ``features.yaml`` by default)."""
    from arrisk.errors import ValidationError

    path = Path(path) if path else DEFAULT_CONFIG_PATH
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return FeatureConfig(**raw)
    except (OSError, yaml.YAMLError, ValueError) as err:
        raise ValidationError(f"feature config {path}: {err}") from err


@lru_cache(maxsize=1)
def default_config() -> FeatureConfig:
    return load_config(DEFAULT_CONFIG_PATH)
