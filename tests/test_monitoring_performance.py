"""Outcome monitoring: served scores are stored, matched with matured labels, judged per month."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, func, select

from arrisk.errors import ValidationError
from arrisk.ledger.frames import LedgerFrames
from arrisk.settings import Settings
from training.monitoring.check import run_check
from training.monitoring.performance import compute_performance, performance_series
from training.monitoring.policy import MonitoringPolicy, PerformancePolicy
from training.monitoring.scores import record_served_scores, served_scores
from training.monitoring.tables import ServedScore

MATURED = ["2025-10-31", "2025-11-30"]
UNMATURED = "2026-05-31"  # + 90-day horizon runs past the book's end


@pytest.fixture(scope="module")
def book() -> LedgerFrames:
    from arrisk.ledger.generator import generate_book

    return generate_book(n_customers=600, months=18, seed=11)


@pytest.fixture(scope="module")
def outcomes(book: LedgerFrames) -> dict[str, pd.DataFrame]:
    from features.labels import customer_default_labels

    return {d: customer_default_labels(book, d) for d in [*MATURED, UNMATURED]}


def _scores(labels: pd.DataFrame, *, informative: bool, seed: int) -> pd.DataFrame:
    """Informative: a calibrated, useful model (bad customers score 0.6-1.0, except a fifth it misses,
    who score like the good ones, 0-0.04). Otherwise uniform noise around the base rate."""
    rng = np.random.default_rng(seed)
    y = labels["default"].fillna(0).to_numpy()
    caught = (y == 1) & (rng.random(len(y)) < 0.8)
    low, high = rng.uniform(0, 0.04, len(y)), rng.uniform(0.6, 1.0, len(y))
    proba = np.where(caught, high, low) if informative else rng.uniform(0, 0.22, len(y))
    return pd.DataFrame({"entity_id": labels["customer_id"], "probability": proba})


def _record(engine: Engine, outcomes: dict[str, pd.DataFrame], *, version: int, informative: bool) -> None:
    for i, day in enumerate(outcomes):
        record_served_scores(
            engine,
            model_name="default_risk",
            model_version=version,
            as_of=day,
            entity="customer",
            frame=_scores(outcomes[day], informative=informative, seed=i),
        )


def _register_expected_auc(version: int, auc: float) -> None:
    """A real registry entry whose validation AUC tag is what the realised AUC is compared with."""
    from mlflow import MlflowClient

    from models.registry import tracking_uri

    tracking_uri()
    client = MlflowClient()
    if not client.search_registered_models(filter_string="name = 'default_risk'"):
        client.create_registered_model("default_risk")
    from arrisk.settings import get_settings

    folder = get_settings().home / "registry-placeholder"  # version metadata only; nothing is loaded
    folder.mkdir(parents=True, exist_ok=True)
    mv = client.create_model_version("default_risk", source=folder.resolve().as_uri(), run_id=None)
    assert int(mv.version) == version
    client.set_model_version_tag("default_risk", mv.version, "metric.valid_roc_auc", str(auc))


def test_served_scores_are_replaced_not_duplicated(engine: Engine, outcomes: dict[str, pd.DataFrame]) -> None:
    labels = outcomes[MATURED[0]]
    frame = _scores(labels, informative=True, seed=0)
    for _ in range(2):
        written = record_served_scores(
            engine,
            model_name="default_risk",
            model_version=1,
            as_of=MATURED[0],
            entity="customer",
            frame=frame,
        )
        assert written == len(labels)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ServedScore)).scalar_one() == len(labels)
    stored = served_scores(engine).set_index("entity_id")["probability"]
    assert stored.loc[frame["entity_id"]].to_numpy() == pytest.approx(frame["probability"].to_numpy())


@pytest.mark.parametrize(
    ("frame", "entity", "message"),
    [
        (
            pd.DataFrame({"entity_id": ["C1"], "probability": [1.2]}),
            "customer",
            "C1: probability 1.2 is outside",
        ),
        (
            pd.DataFrame({"entity_id": ["C1", "C1"], "probability": [0.1, 0.2]}),
            "customer",
            "C1 appears twice",
        ),
        (
            pd.DataFrame({"entity_id": ["C1"], "probability": [0.1]}),
            "account",
            "entity 'account' is not one of",
        ),
        (pd.DataFrame({"customer_id": ["C1"], "probability": [0.1]}), "customer", "lacks column"),
    ],
)
def test_bad_score_batches_are_rejected(
    sqlite_engine: Engine, frame: pd.DataFrame, entity: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        record_served_scores(
            sqlite_engine,
            model_name="default_risk",
            model_version=1,
            as_of="2025-10-31",
            entity=entity,
            frame=frame,
        )


def test_realised_performance_per_month_and_version(
    settings: Settings, engine: Engine, book: LedgerFrames, outcomes: dict[str, pd.DataFrame]
) -> None:
    _register_expected_auc(1, 0.85)
    _register_expected_auc(2, 0.85)
    _record(engine, outcomes, version=1, informative=True)
    _record(engine, {d: outcomes[d] for d in MATURED}, version=2, informative=False)
    series = compute_performance(engine, book, policy=PerformancePolicy())
    by_key = {(r["version"], r["period"]): r for r in series}
    assert sorted(by_key) == [(1, "2025-10"), (1, "2025-11"), (1, "2026-05"), (2, "2025-10"), (2, "2025-11")]

    good, useless, unmatured = by_key[(1, "2025-10")], by_key[(2, "2025-10")], by_key[(1, "2026-05")]
    labels = outcomes["2025-10-31"]["default"]
    assert good["n_labelled"] == len(labels) and good["n_bad"] == int(labels.sum())
    assert good["observed_rate"] == pytest.approx(labels.mean())
    assert good["roc_auc"] > 0.85 and good["capture_rate"] > 0.6 and good["ece"] < 0.05 and good["judged"]
    assert good["auc_drop"] == pytest.approx(0.85 - good["roc_auc"])
    assert 0.35 < useless["roc_auc"] < 0.65 and useless["auc_drop"] > 0.2
    assert unmatured["n_scored"] == len(outcomes[UNMATURED]) and unmatured["n_labelled"] == 0
    assert unmatured["roc_auc"] is None and not unmatured["judged"]

    compute_performance(engine, book, policy=PerformancePolicy())  # recomputing replaces, never appends
    stored = performance_series(engine, "default_risk")
    assert [(r["version"], r["period"]) for r in stored] == sorted(by_key, key=lambda k: (k[1], k[0]))
    assert stored[0]["roc_auc"] == pytest.approx(
        by_key[(stored[0]["version"], stored[0]["period"])]["roc_auc"]
    )


def test_check_fails_on_an_auc_drop_and_says_why(
    settings: Settings, sqlite_engine: Engine, book: LedgerFrames, outcomes: dict[str, pd.DataFrame]
) -> None:
    _register_expected_auc(1, 0.85)
    _register_expected_auc(2, 0.85)
    policy = MonitoringPolicy(models=["default_risk"])
    _record(sqlite_engine, {d: outcomes[d] for d in MATURED}, version=1, informative=True)
    compute_performance(sqlite_engine, book, policy=policy.performance)
    assert run_check(settings, policy=policy, engine=sqlite_engine).breaches == []

    _record(sqlite_engine, {d: outcomes[d] for d in MATURED}, version=2, informative=False)
    compute_performance(sqlite_engine, book, policy=policy.performance)
    report = run_check(settings, policy=policy, engine=sqlite_engine)
    assert [b.rule for b in report.breaches] == ["max_auc_drop"]
    assert "v2 scores of 2025-11: realised ROC-AUC" in report.breaches[0].message
    assert "below validation 0.850" in report.text()


def test_miscalibrated_scores_fail_on_ece(
    settings: Settings, sqlite_engine: Engine, book: LedgerFrames, outcomes: dict[str, pd.DataFrame]
) -> None:
    policy = MonitoringPolicy(models=["default_risk"])
    for day in MATURED:  # ranks well but says 60% when about 10% go bad
        frame = _scores(outcomes[day], informative=True, seed=1).assign(
            probability=lambda f: 0.55 + f.probability / 10
        )
        record_served_scores(
            sqlite_engine,
            model_name="default_risk",
            model_version=3,
            as_of=day,
            entity="customer",
            frame=frame,
        )
    latest = compute_performance(sqlite_engine, book, policy=policy.performance)[-1]
    assert latest["mean_predicted"] > 0.5 > 0.2 > latest["observed_rate"]
    # ECE is at least the overall gap between mean predicted and observed
    assert latest["ece"] >= abs(latest["mean_predicted"] - latest["observed_rate"]) - 1e-12 > 0.3
    report = run_check(settings, policy=policy, engine=sqlite_engine)
    assert [b.rule for b in report.breaches] == ["max_ece"]
    assert "no drift run yet" in report.text()


def test_monitor_performance_command_reads_the_store(
    settings: Settings, book: LedgerFrames, outcomes: dict[str, pd.DataFrame]
) -> None:
    from typer.testing import CliRunner

    from arrisk.cli import app
    from arrisk.ledger.importer import import_frames
    from arrisk.store.db import get_engine

    engine = get_engine(settings)
    import_frames(engine, book, source="generator")
    runner = CliRunner()
    empty = runner.invoke(app, ["monitor", "performance"])
    assert empty.exit_code == 0 and "no served scores recorded yet" in empty.output
    _record(engine, {d: outcomes[d] for d in MATURED}, version=1, informative=True)
    result = runner.invoke(app, ["monitor", "performance", "--model", "default_risk"])
    assert result.exit_code == 0, result.output
    assert "2025-10" in result.output and "2025-11" in result.output
    assert [r["period"] for r in performance_series(engine)] == ["2025-10", "2025-11"]
