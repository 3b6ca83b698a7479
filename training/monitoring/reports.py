"""Drift reports on disk: ``<reports_dir>/drift/<model>/<as_of>_<stamp>/{summary.json, report.html}``.

The API reads the newest summary and HTML from here (``latest_drift_summary``,
``latest_drift_report_path``); the demo prints ``drift_summary_text``.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from arrisk.errors import NotFoundError
from arrisk.settings import Settings
from training.monitoring.drift import DriftResult

SUMMARY = "summary.json"
REPORT = "report.html"


def drift_dir(settings: Settings) -> Path:
    return settings.reports_dir / "drift"


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def build_summary(result: DriftResult, *, meta: dict[str, Any]) -> dict[str, Any]:
    """The JSON summary: what was compared, thresholds, drifted share, alerts, per-feature PSI."""
    policy = result.policy
    rows = [{k: _finite(v) for k, v in row.items()} for row in result.features.to_dict(orient="records")]
    return {
        **meta,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "n_reference": result.n_reference,
        "n_current": result.n_current,
        "thresholds": {
            "psi_warn": policy.psi_warn,
            "psi_alert": policy.psi_alert,
            "max_drifted_share": policy.max_drifted_share,
            "ignore_features": list(policy.ignore_features),
        },
        "n_features": len(result.features),
        "n_monitored": len(result.monitored),
        "n_drifted": int(result.monitored["drifted"].sum()),
        "drifted_share": result.drifted_share,
        "psi_max": _finite(float(result.monitored["psi"].max())) if len(result.monitored) else None,
        "alerts": result.alerts,
        "dataset_drift": result.dataset_drift,
        "timings": {k: round(v, 4) for k, v in result.timings.items()},
        "features": rows,
    }


def write_report(result: DriftResult, summary: dict[str, Any], settings: Settings) -> Path:
    """Write summary.json (and report.html when Evidently ran); returns the run's folder."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    folder = drift_dir(settings) / summary["model"] / f"{summary['as_of']}_{stamp}"
    folder.mkdir(parents=True, exist_ok=True)
    if result.evidently_snapshot is not None:
        result.evidently_snapshot.save_html(str(folder / REPORT))
        summary["report_html"] = str(folder / REPORT)
    (folder / SUMMARY).write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    return folder


def _summaries(settings: Settings, model: str | None) -> list[Path]:
    root = drift_dir(settings)
    pattern = f"{model}/*/{SUMMARY}" if model else f"*/*/{SUMMARY}"
    return list(root.glob(pattern)) if root.is_dir() else []


def _latest_folder(settings: Settings, model: str | None) -> Path:
    found = _summaries(settings, model)
    if not found:
        what = f"model {model!r}" if model else "any model"
        raise NotFoundError(
            f"drift reports under {drift_dir(settings)}: none for {what}; run `arrisk monitor drift`"
        )
    newest = max(
        found, key=lambda p: (json.loads(p.read_text(encoding="utf-8"))["created_at"], p.parent.name)
    )
    return newest.parent


def latest_drift_summary(settings: Settings, model: str | None = None) -> dict[str, Any]:
    """The newest drift summary (of ``model``, or of any); NotFoundError when none was written."""
    folder = _latest_folder(settings, model)
    return json.loads((folder / SUMMARY).read_text(encoding="utf-8"))


def latest_drift_report_path(settings: Settings, model: str | None = None) -> Path:
    """The newest Evidently HTML report; NotFoundError when none exists."""
    folder = _latest_folder(settings, model)
    if not (folder / REPORT).is_file():
        raise NotFoundError(f"drift run {folder.name}: no HTML report (it ran without Evidently)")
    return folder / REPORT


def drift_summary_text(summary: dict[str, Any], *, top: int = 8) -> str:
    """A few lines for a terminal: verdict, drifted share, the features that moved most."""
    verdict = "DRIFT" if summary["dataset_drift"] else "stable"
    head = (
        f"drift {summary['model']} v{summary.get('version', '?')} as of {summary['as_of']}: {verdict} - "
        f"{summary['n_drifted']}/{summary['n_monitored']} monitored features drifted "
        f"({summary['drifted_share']:.0%}, limit {summary['thresholds']['max_drifted_share']:.0%}), "
        f"{summary['n_reference']} reference vs {summary['n_current']} current rows"
    )
    lines = [head]
    if summary["alerts"]:
        lines.append(f"  alert (PSI >= {summary['thresholds']['psi_alert']}): {', '.join(summary['alerts'])}")
    lines.append(f"  {'feature':<32} {'PSI':>7} {'Evidently':>9} {'ref mean':>11} {'cur mean':>11}")
    for row in summary["features"][:top]:
        flag = (
            " (ignored)" if row["ignored"] else (" !" if row["alert"] else (" *" if row["drifted"] else ""))
        )
        lines.append(
            f"  {row['feature']:<32} {_num(row['psi'], 3):>7} {_num(row['evidently_psi'], 3):>9} "
            f"{_num(row['ref_mean'], 2):>11} {_num(row['cur_mean'], 2):>11}{flag}"
        )
    return "\n".join(lines)


def _num(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"
