"""``arrisk monitor check``: the latest drift and performance results against the thresholds.

Stored summaries are re-judged with the current policy, so tightening a threshold takes effect at
once. A crossed threshold is a ``Breach`` (the command exits 1); a missing result is only a note.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from arrisk.errors import NotFoundError
from arrisk.settings import Settings
from training.monitoring.policy import DriftPolicy, MonitoringPolicy, PerformancePolicy


@dataclass
class Breach:
    model: str
    kind: str  # drift | performance
    rule: str
    message: str


@dataclass
class CheckReport:
    breaches: list[Breach] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaches

    def text(self) -> str:
        lines = [f"{b.model}: {b.kind}: {b.message}" for b in self.breaches]
        lines += [f"note: {n}" for n in self.notes]
        if self.ok:
            lines.insert(0, "all clear: no monitoring threshold crossed")
        return "\n".join(lines)


def judge_drift(summary: dict[str, Any], policy: DriftPolicy, *, now: datetime | None = None) -> list[Breach]:
    """Breaches of one drift summary: alert-level PSI per feature, drifted share, staleness."""
    model, as_of = summary["model"], summary["as_of"]
    rows = [
        r for r in summary["features"] if r["feature"] not in policy.ignore_features and r["psi"] is not None
    ]
    out = [
        Breach(
            model,
            "drift",
            "psi_alert",
            f"feature {r['feature']} PSI {r['psi']:.3f} >= psi_alert {policy.psi_alert} (as of {as_of})",
        )
        for r in rows
        if r["psi"] >= policy.psi_alert
    ]
    share = sum(r["psi"] >= policy.psi_warn for r in rows) / len(rows) if rows else 0.0
    if share > policy.max_drifted_share:
        out.append(
            Breach(
                model,
                "drift",
                "max_drifted_share",
                f"{share:.0%} of {len(rows)} monitored features have PSI >= {policy.psi_warn}, above "
                f"max_drifted_share {policy.max_drifted_share:.0%} (as of {as_of})",
            )
        )
    if policy.max_age_days is not None:
        created = datetime.fromisoformat(summary["created_at"])
        age = ((now or datetime.now(UTC)) - created).days
        if age > policy.max_age_days:
            out.append(
                Breach(
                    model,
                    "drift",
                    "max_age_days",
                    f"latest drift run is {age} days old, above max_age_days {policy.max_age_days}",
                )
            )
    return out


def judge_performance(result: dict[str, Any], policy: PerformancePolicy) -> list[Breach]:
    """Breaches of one judged month: AUC drop against validation, ECE, capture rate."""
    model, where = result["model"], f"v{result['version']} scores of {result['period']}"
    out = []
    drop = result.get("auc_drop")
    if drop is not None and drop > policy.max_auc_drop:
        out.append(
            Breach(
                model,
                "performance",
                "max_auc_drop",
                f"{where}: realised ROC-AUC {result['roc_auc']:.3f} is {drop:.3f} below validation "
                f"{result['expected_roc_auc']:.3f}, more than max_auc_drop {policy.max_auc_drop}",
            )
        )
    ece = result.get("ece")
    if policy.max_ece is not None and ece is not None and ece > policy.max_ece:
        out.append(
            Breach(
                model,
                "performance",
                "max_ece",
                f"{where}: ECE {ece:.3f} above max_ece {policy.max_ece} (mean predicted "
                f"{result['mean_predicted']:.3f} vs observed {result['observed_rate']:.3f})",
            )
        )
    capture = result.get("capture_rate")
    if policy.min_capture_rate is not None and capture is not None and capture < policy.min_capture_rate:
        out.append(
            Breach(
                model,
                "performance",
                "min_capture_rate",
                f"{where}: riskiest decile captures {capture:.0%} of bad outcomes, below "
                f"min_capture_rate {policy.min_capture_rate:.0%}",
            )
        )
    return out


def _latest_judged(series: list[dict[str, Any]]) -> dict[str, Any] | None:
    judged = [r for r in series if r.get("judged")]
    return max(judged, key=lambda r: (r["period"], r["version"])) if judged else None


def run_check(
    settings: Settings,
    *,
    policy: MonitoringPolicy,
    engine: Engine | None = None,
    models: list[str] | None = None,
) -> CheckReport:
    """Judge every model's newest drift summary and newest judged month of outcomes."""
    from training.monitoring.performance import performance_series
    from training.monitoring.reports import latest_drift_summary

    report = CheckReport()
    for model in models or policy.models:
        try:
            report.breaches += judge_drift(latest_drift_summary(settings, model), policy.drift)
        except NotFoundError:
            report.notes.append(f"{model}: no drift run yet (run `arrisk monitor drift --model {model}`)")
        if engine is None:
            continue
        latest = _latest_judged(performance_series(engine, model))
        if latest is None:
            report.notes.append(f"{model}: no month with enough matured outcomes to judge performance yet")
        else:
            report.breaches += judge_performance(latest, policy.performance)
    return report
