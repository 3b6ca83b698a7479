"""The whole loop on a generated book: train a champion (its reference features go to MLflow), load the
book into the store, ``arrisk monitor drift`` + ``monitor check`` on it, then on a book whose customers
pay 20 days later from January on."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from arrisk.ledger.frames import LedgerFrames
from arrisk.settings import Settings
from training.monitoring.scenarios import delay_payments

pytestmark = pytest.mark.slow

AS_OF = "2026-05-31"
SMALL_EXPERIMENT = {
    "name": "default_risk",
    "model": "default_risk",
    "label": {"kind": "customer_default", "horizon_days": 90},
    "generated": None,
    "train_as_of": ["2025-09-30", "2025-10-31", "2025-11-30", "2025-12-31"],
    "valid_as_of": ["2026-03-31"],
    "backtest_origins": 0,
    "baselines": [],
    "lightgbm": {
        "num_boost_round": 60,
        "early_stopping_rounds": 10,
        "n_folds": 2,
        "params": {"num_leaves": 7, "min_data_in_leaf": 20, "verbose": -1},
    },
    "reference_rows": 5000,
}


@pytest.fixture
def champion_book(settings: Settings) -> LedgerFrames:
    """A book and a default_risk champion trained on it, registered in the temp home's MLflow."""
    from arrisk.ledger.generator import generate_book
    from training.config import ExperimentConfig
    from training.runner import run_experiment

    book = generate_book(n_customers=800, months=18, seed=3)
    result = run_experiment(ExperimentConfig.model_validate(SMALL_EXPERIMENT), book)
    assert result.version == 1
    return book


def _use_store(monkeypatch: pytest.MonkeyPatch, path: Path, book: LedgerFrames) -> None:
    from arrisk.ledger.importer import import_frames
    from arrisk.settings import get_settings
    from arrisk.store.db import make_engine, migrate

    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate(engine)
    import_frames(engine, book, source="generator")
    engine.dispose()
    monkeypatch.setenv("ARRISK_DATABASE_URL", url)
    get_settings.cache_clear()


def test_monitor_drift_and_check_on_the_store(
    settings: Settings, champion_book: LedgerFrames, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from arrisk.cli import app
    from training.monitoring.reports import latest_drift_summary

    runner = CliRunner()
    _use_store(monkeypatch, tmp_path / "plain.db", champion_book)
    drift = runner.invoke(app, ["monitor", "drift", "--as-of", AS_OF, "--no-report"])
    assert drift.exit_code == 0, drift.output
    assert "drift default_risk v1 as of 2026-05-31: stable" in drift.output
    check = runner.invoke(app, ["monitor", "check", "--model", "default_risk"])
    assert check.exit_code == 0, check.output
    assert "all clear" in check.output

    _use_store(
        monkeypatch,
        tmp_path / "shifted.db",
        delay_payments(champion_book, since=pd.Timestamp("2026-01-01"), days=20),
    )
    drift = runner.invoke(app, ["monitor", "drift", "--as-of", AS_OF])
    assert drift.exit_code == 0, drift.output
    summary = latest_drift_summary(settings, "default_risk")
    assert summary["dataset_drift"] and summary["model_run_id"]
    assert {"days_late_mean", "days_late_last5_mean", "share_late_over_15d"} <= set(summary["alerts"])
    assert Path(summary["report_html"]).is_file()
    check = runner.invoke(app, ["monitor", "check", "--model", "default_risk"])
    assert check.exit_code == 1
    assert "feature days_late_mean PSI" in check.output
