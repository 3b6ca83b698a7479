"""Monitoring thresholds: ``policies/monitoring.yaml`` parsed into pydantic models at load."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticValidationError

from arrisk.errors import NotFoundError, ValidationError


def default_policy_path() -> Path:
    return Path(__file__).resolve().parents[2] / "policies" / "monitoring.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DriftPolicy(_Strict):
    """Per-feature PSI levels and the share of drifted features that fails the check."""

    n_bins: int = Field(default=10, ge=2, le=100)
    psi_warn: float = Field(default=0.10, gt=0)
    psi_alert: float = Field(default=0.25, gt=0)
    max_drifted_share: float = Field(default=0.30, gt=0, le=1)
    ignore_features: list[str] = Field(default_factory=list)
    evidently_max_rows: int = Field(default=50_000, ge=100)
    max_age_days: int | None = Field(default=45, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> DriftPolicy:
        if self.psi_alert < self.psi_warn:
            raise ValueError(f"psi_alert {self.psi_alert} is below psi_warn {self.psi_warn}")
        return self


class PerformancePolicy(_Strict):
    """When a month of matured outcomes is judged, and what realised numbers fail it."""

    min_labelled: int = Field(default=200, ge=1)
    min_bad: int = Field(default=10, ge=1)
    max_auc_drop: float = Field(default=0.05, ge=0, le=1)
    max_ece: float | None = Field(default=0.10, gt=0, le=1)
    min_capture_rate: float | None = Field(default=None, ge=0, le=1)
    n_calibration_bins: int = Field(default=10, ge=2)
    horizon_days: int = Field(default=90, ge=1)
    late_days: int = Field(default=0, ge=0)


class MonitoringPolicy(_Strict):
    version: int = 1
    models: list[str] = Field(default_factory=lambda: ["default_risk", "late_payment"])
    drift: DriftPolicy = Field(default_factory=DriftPolicy)
    performance: PerformancePolicy = Field(default_factory=PerformancePolicy)


def load_policy(path: Path | str | None = None) -> MonitoringPolicy:
    """Read and validate the monitoring YAML; errors name the file and the field."""
    path = Path(path) if path else default_policy_path()
    if not path.is_file():
        raise NotFoundError(f"monitoring policy {path} does not exist")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise ValidationError(f"monitoring policy {path}: not valid YAML: {err}") from err
    try:
        return MonitoringPolicy.model_validate(raw)
    except PydanticValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ValidationError(f"monitoring policy {path}: {where}: {first['msg']}") from err
