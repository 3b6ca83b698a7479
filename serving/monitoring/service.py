"""Monitoring for the API: the stored drift summaries and reports, the realised-performance series.

``training.monitoring`` is imported inside the functions: the app starts without it (and Evidently
is only ever loaded by a drift run, never here).
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine

from arrisk.errors import NotFoundError
from arrisk.settings import Settings
from serving.monitoring.schemas import DriftReportInfo, DriftSummary, PerformanceSeries


def latest_drift(settings: Settings, model: str | None) -> DriftSummary:
    """The newest drift summary; 404 naming the model and the command to run when there is none."""
    from training.monitoring.reports import latest_drift_summary

    summary = latest_drift_summary(settings, model)
    report = summary.get("report_html")
    return DriftSummary.model_validate(
        {**summary, "has_report": bool(report) and Path(str(report)).is_file()}
    )


def latest_drift_report(settings: Settings, model: str | None) -> tuple[Path, DriftReportInfo]:
    """The newest Evidently HTML report and what it is; 404 when none was written."""
    from training.monitoring.reports import SUMMARY, latest_drift_report_path

    path = latest_drift_report_path(settings, model)
    summary = json.loads((path.parent / SUMMARY).read_text(encoding="utf-8"))
    info = DriftReportInfo(
        model=summary["model"],
        as_of=summary["as_of"],
        created_at=summary["created_at"],
        size_bytes=path.stat().st_size,
    )
    return path, info


def performance(engine: Engine, model: str | None) -> PerformanceSeries:
    """Realised ROC-AUC, calibration and capture per model version and month, as last computed."""
    from training.monitoring.performance import performance_series

    points = performance_series(engine, model)
    if not points:
        what = f"model {model!r}" if model else "any model"
        raise NotFoundError(
            f"realised performance: none stored for {what}; run `arrisk monitor performance` once "
            "served scores have outcomes"
        )
    return PerformanceSeries.model_validate({"model": model, "points": points})
