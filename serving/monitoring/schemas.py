"""Drift summaries (PSI per feature against the champion's training data) and realised performance."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class FeatureDrift(BaseModel):
    model_config = ConfigDict(extra="allow")

    feature: str
    psi: float | None
    evidently_psi: float | None = Field(default=None, description="Evidently's PSI, a cross-check")
    drifted: bool
    alert: bool
    ignored: bool
    ref_mean: float | None = None
    cur_mean: float | None = None
    ref_missing: float | None = None
    cur_missing: float | None = None


class DriftThresholds(BaseModel):
    psi_warn: float
    psi_alert: float
    max_drifted_share: float
    ignore_features: list[str]


class DriftSummary(BaseModel):
    """The newest drift check of a model: verdict, drifted share, alerts and per-feature PSI."""

    model: str
    version: int | None = None
    model_run_id: str | None = None
    entity: str | None = None
    as_of: dt.date
    feature_set_version: str | int | None = None
    created_at: dt.datetime
    n_reference: int
    n_current: int
    thresholds: DriftThresholds
    n_features: int
    n_monitored: int
    n_drifted: int
    drifted_share: float
    psi_max: float | None
    alerts: list[str]
    dataset_drift: bool
    has_report: bool = Field(description="an Evidently HTML report exists (GET /v1/monitoring/drift/report)")
    features: list[FeatureDrift]


class DriftReportInfo(BaseModel):
    """Sent instead of the HTML when the client accepts only JSON."""

    model: str
    as_of: dt.date
    created_at: dt.datetime
    media_type: str = "text/html"
    size_bytes: int


class PerformancePoint(BaseModel):
    """Realised performance of one model version on the scores served in one month."""

    model: str
    version: int | None
    period: str = Field(description="scoring month, YYYY-MM")
    n_scored: int
    n_labelled: int = Field(description="scores whose outcome has matured")
    n_bad: int
    scoring_dates: list[str] = []
    mean_predicted: float | None
    observed_rate: float | None
    roc_auc: float | None
    expected_roc_auc: float | None = Field(default=None, description="the ROC-AUC the model was validated at")
    auc_drop: float | None = None
    ece: float | None = Field(description="expected calibration error")
    capture_rate: float | None = Field(description="share of bad outcomes in the top-scored decile")
    judged: bool = Field(description="enough matured outcomes and bad ones to judge the period")
    created_at: dt.datetime | None = None


class PerformanceSeries(BaseModel):
    model: str | None
    points: list[PerformancePoint]
