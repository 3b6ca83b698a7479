"""``arrisk retrain`` trains and registers a challenger from an experiment config."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from arrisk.settings import Settings

pytestmark = pytest.mark.slow

SMALL = {
    "name": "default_risk",
    "model": "default_risk",
    "label": {"kind": "customer_default", "horizon_days": 90},
    "generated": {"n_customers": 400, "months": 18, "seed": 5},
    "train_as_of": ["2025-09-30", "2025-10-31", "2025-11-30", "2025-12-31"],
    "valid_as_of": ["2026-03-31"],
    "backtest_origins": 0,
    "baselines": [],
    "lightgbm": {
        "num_boost_round": 40,
        "early_stopping_rounds": 10,
        "n_folds": 2,
        "params": {"num_leaves": 7, "min_data_in_leaf": 20, "verbose": -1},
    },
    "reference_rows": 2000,
}


def test_retrain_registers_a_challenger_with_its_reference(settings: Settings, tmp_path: Path) -> None:
    import mlflow

    from arrisk.cli import app
    from models.registry import CHALLENGER, alias_version, tracking_uri

    config = tmp_path / "small.yaml"
    config.write_text(yaml.safe_dump(SMALL), encoding="utf-8")
    result = CliRunner().invoke(app, ["retrain", "--config", str(config), "--generated", "--no-promote"])
    assert result.exit_code == 0, result.output
    assert "default_risk: challenger v1, valid ROC-AUC" in result.output
    assert "(promotion gate not run)" in result.output
    tracking_uri()
    assert alias_version("default_risk", CHALLENGER) == 1
    run_id = mlflow.MlflowClient().get_model_version("default_risk", "1").run_id
    from training.monitoring.runs import load_reference

    reference = load_reference(run_id, model_name="default_risk")
    assert "days_late_mean" in reference.columns and len(reference) > 100


def test_retrain_with_the_gate(settings: Settings, tmp_path: Path) -> None:
    from arrisk.cli import app
    from models.registry import CHALLENGER, CHAMPION, alias_version, tracking_uri

    config = tmp_path / "small.yaml"
    config.write_text(yaml.safe_dump(SMALL), encoding="utf-8")
    result = CliRunner().invoke(app, ["retrain", "--config", str(config), "--generated"])
    assert result.exit_code == 0, result.output
    # the first version is champion from registration; the same data again cannot beat it by the margin
    assert "gate: default_risk v1 not promoted over v1: version 1 is already champion" in result.output
    again = CliRunner().invoke(app, ["retrain", "--config", str(config), "--generated"])
    assert again.exit_code == 0, again.output
    assert "gate: default_risk v2 not promoted over v1" in again.output
    tracking_uri()
    assert alias_version("default_risk", CHAMPION) == 1
    assert alias_version("default_risk", CHALLENGER) == 2
