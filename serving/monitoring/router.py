"""Model monitoring: the newest drift summary and Evidently report, and realised performance.

Data scientists and admins watch models; credit analysts may read too. Before any drift run (or
performance computation) these answer 404 with the command that produces them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse

from serving.auth import Principal, Role
from serving.deps import EngineDep, SettingsDep, require_roles
from serving.http_errors import responses
from serving.monitoring import service
from serving.monitoring.schemas import DriftReportInfo, DriftSummary, PerformanceSeries

router = APIRouter(prefix="/v1/monitoring", tags=["monitoring"], responses=responses(401, 403, 404, 422))
Watcher = Annotated[Principal, require_roles(Role.data_scientist, Role.credit_analyst, Role.admin)]
# a folder name under reports/drift: no dots, slashes or glob characters
ModelName = Annotated[
    str | None,
    Query(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$", description="registered model; any model if unset"),
]
HTML_REPORT: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the Evidently HTML report (JSON facts about it for `Accept: application/json`)",
        "content": {"text/html": {"schema": {"type": "string"}}},
    }
}


@router.get("/drift", response_model=DriftSummary)
def drift(settings: SettingsDep, user: Watcher, model: ModelName = None) -> DriftSummary:
    """The newest drift summary: verdict, drifted share, alerts and PSI per feature."""
    return service.latest_drift(settings, model)


@router.get("/drift/report", response_model=DriftReportInfo, responses=HTML_REPORT)
def drift_report(request: Request, settings: SettingsDep, user: Watcher, model: ModelName = None) -> Any:
    """The newest Evidently drift report as HTML."""
    path, info = service.latest_drift_report(settings, model)
    accept = request.headers.get("accept", "")
    if "application/json" in accept and "text/html" not in accept:
        return info
    return FileResponse(path, media_type="text/html")


@router.get("/performance", response_model=PerformanceSeries)
def performance(engine: EngineDep, user: Watcher, model: ModelName = None) -> PerformanceSeries:
    """Realised ROC-AUC, calibration and top-decile capture per model version and scoring month."""
    return service.performance(engine, model)
