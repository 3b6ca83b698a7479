"""Drift on a generated book: customers who start paying 20 days later are flagged, an unshifted book
passes; reports land under ARRISK_HOME, the run is logged to MLflow, ``monitor check`` exits 1 / 0."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from arrisk.errors import NotFoundError
from arrisk.ledger.frames import LedgerFrames
from arrisk.settings import Settings
from training.monitoring.check import judge_drift
from training.monitoring.policy import DriftPolicy, load_policy
from training.monitoring.reports import drift_summary_text, latest_drift_report_path, latest_drift_summary
from training.monitoring.runs import drift_between
from training.monitoring.scenarios import delay_payments

REFERENCE_AS_OF = ["2025-09-30", "2025-10-31", "2025-11-30", "2025-12-31"]
CURRENT_AS_OF = "2026-05-31"
SHIFT_FROM = pd.Timestamp("2026-01-01")
LATENESS = {
    "days_late_mean",
    "days_late_wmean",
    "days_late_max",
    "days_late_last5_mean",
    "share_late_over_15d",
}
UNRELATED = {
    "credit_limit",
    "payment_terms_days",
    "invoice_amount_mean",
    "invoiced_amount_90d",
    "n_invoices_90d",
}


@pytest.fixture(scope="module")
def book() -> LedgerFrames:
    from arrisk.ledger.generator import generate_book

    return generate_book(n_customers=800, months=18, seed=3)


@pytest.fixture(scope="module")
def frames_for_drift(book: LedgerFrames) -> dict[str, pd.DataFrame]:
    """Reference: customer features at four month-ends (as training samples them); current: later."""
    from features.pipeline import build_snapshot

    reference = pd.concat([build_snapshot(book, d).customers for d in REFERENCE_AS_OF], ignore_index=True)
    shifted = delay_payments(book, since=SHIFT_FROM, days=20)
    return {
        "reference": reference,
        "plain": build_snapshot(book, CURRENT_AS_OF).customers,
        "shifted": build_snapshot(shifted, CURRENT_AS_OF).customers,
    }


@pytest.fixture(scope="module")
def features() -> list[str]:
    from features.pipeline import customer_feature_names

    return customer_feature_names()


def _drift(settings: Settings, frames: dict[str, pd.DataFrame], which: str, features: list[str], **kw):  # type: ignore[no-untyped-def]
    """drift_between on one current frame; PSI only (no Evidently, no MLflow) unless asked."""
    kw = {"log_to_mlflow": False, "with_evidently": False, **kw}
    meta = {"model": "default_risk", "version": 1, "entity": "customer", "as_of": CURRENT_AS_OF}
    return drift_between(
        frames["reference"],
        frames[which],
        settings=settings,
        meta=meta,
        features=features,
        policy=load_policy().drift,
        **kw,
    )


def test_paying_20_days_later_is_flagged_on_the_lateness_features(
    settings: Settings, frames_for_drift: dict[str, pd.DataFrame], features: list[str]
) -> None:
    summary = _drift(settings, frames_for_drift, "shifted", features, with_evidently=True)
    assert summary["dataset_drift"] is True
    assert set(summary["alerts"]) >= LATENESS
    assert not UNRELATED & set(summary["alerts"])
    by_feature = {r["feature"]: r for r in summary["features"]}
    assert by_feature["days_late_mean"]["cur_mean"] > by_feature["days_late_mean"]["ref_mean"] + 5
    # Evidently's PSI (its own binning) agrees that the lateness features moved
    assert all(by_feature[f]["evidently_psi"] > 0.1 for f in LATENESS)
    breaches = judge_drift(summary, load_policy().drift)
    assert {b.rule for b in breaches} >= {"psi_alert"}
    assert any("days_late_mean" in b.message for b in breaches)


def test_unshifted_book_is_stable(
    settings: Settings, frames_for_drift: dict[str, pd.DataFrame], features: list[str]
) -> None:
    summary = _drift(settings, frames_for_drift, "plain", features)
    assert summary["dataset_drift"] is False
    assert summary["alerts"] == []
    assert summary["drifted_share"] <= load_policy().drift.max_drifted_share
    assert judge_drift(summary, load_policy().drift) == []
    # the lifetime counters drift with the book's age: reported, but ignored by the check
    ignored = {r["feature"] for r in summary["features"] if r["ignored"]}
    assert ignored == {"tenure_days", "n_invoices", "n_paid_invoices"}


@pytest.mark.slow
def test_reports_are_written_under_home_and_logged_to_mlflow(
    settings: Settings, frames_for_drift: dict[str, pd.DataFrame], features: list[str]
) -> None:
    import mlflow

    summary = _drift(settings, frames_for_drift, "shifted", features, log_to_mlflow=True, with_evidently=True)
    stored = latest_drift_summary(settings)
    assert stored["mlflow_run_id"] == summary["mlflow_run_id"]
    html = latest_drift_report_path(settings, "default_risk")
    assert html.is_relative_to(settings.home / "reports" / "drift")
    assert "days_late_mean" in html.read_text(encoding="utf-8")
    run = mlflow.get_run(summary["mlflow_run_id"])
    assert run.data.tags["model_name"] == "default_risk" and run.data.tags["model_version"] == "1"
    assert run.data.metrics["psi.days_late_mean"] == pytest.approx(
        next(r["psi"] for r in summary["features"] if r["feature"] == "days_late_mean")
    )
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(run.info.run_id, "drift")}
    assert artifacts == {"drift/summary.json", "drift/report.html"}


def test_latest_summary_is_the_newest_run(
    settings: Settings, frames_for_drift: dict[str, pd.DataFrame], features: list[str]
) -> None:
    _drift(settings, frames_for_drift, "shifted", features)
    _drift(settings, frames_for_drift, "plain", features)
    assert latest_drift_summary(settings, "default_risk")["dataset_drift"] is False
    with pytest.raises(NotFoundError, match="late_payment"):
        latest_drift_summary(settings, "late_payment")


def test_summary_text_names_verdict_and_top_features(
    settings: Settings, frames_for_drift: dict[str, pd.DataFrame], features: list[str]
) -> None:
    text = drift_summary_text(_drift(settings, frames_for_drift, "shifted", features))
    assert text.splitlines()[0].startswith("drift default_risk v1 as of 2026-05-31: DRIFT")
    assert "days_late_last5_mean" in text and "alert (PSI >= 0.25)" in text


def test_monitor_check_fails_on_drift_and_passes_when_stable(
    settings: Settings, frames_for_drift: dict[str, pd.DataFrame], features: list[str]
) -> None:
    from arrisk.cli import app

    runner = CliRunner()
    _drift(settings, frames_for_drift, "shifted", features)
    failed = runner.invoke(app, ["monitor", "check", "--model", "default_risk"])
    assert failed.exit_code == 1, failed.output
    assert "default_risk: drift: feature days_late" in failed.output and "psi_alert 0.25" in failed.output
    _drift(settings, frames_for_drift, "plain", features)
    passed = runner.invoke(app, ["monitor", "check", "--model", "default_risk"])
    assert passed.exit_code == 0, passed.output
    assert "all clear" in passed.output


def test_check_rejudges_stored_summaries_with_the_current_policy(
    settings: Settings, frames_for_drift: dict[str, pd.DataFrame], features: list[str]
) -> None:
    summary = _drift(settings, frames_for_drift, "plain", features)
    top = max((r for r in summary["features"] if not r["ignored"]), key=lambda r: r["psi"])
    strict = DriftPolicy(psi_warn=top["psi"] / 2, psi_alert=top["psi"] - 1e-9, max_age_days=None)
    rules = {b.rule for b in judge_drift(summary, strict)}
    assert "psi_alert" in rules


def test_stale_drift_run_fails_the_check(
    settings: Settings, frames_for_drift: dict[str, pd.DataFrame], features: list[str]
) -> None:
    summary = _drift(settings, frames_for_drift, "plain", features)
    old = json.loads(json.dumps(summary)) | {"created_at": "2020-01-01T00:00:00+00:00"}
    assert [b.rule for b in judge_drift(old, load_policy().drift)] == ["max_age_days"]


def test_missing_model_feature_is_named(
    settings: Settings, frames_for_drift: dict[str, pd.DataFrame]
) -> None:
    from arrisk.errors import ValidationError

    with pytest.raises(ValidationError, match="'not_a_feature' is missing from the reference frame"):
        _drift(settings, frames_for_drift, "plain", ["days_late_mean", "not_a_feature"])
