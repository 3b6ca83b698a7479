"""CLI: train on a bring-your-own feature file, promote, show; train a config on a generated book."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from tests.test_models_risk_model import book
from training.cli import register


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def _feature_file(tmp_path: Path, n: int = 1200) -> Path:
    X, y = book(n)
    frame = X.assign(
        default_next_90d=y,
        customer_id=[f"C{i}" for i in range(n)],
        month=pd.Timestamp("2025-01-01") + pd.to_timedelta(np.arange(n) % 10 * 31, unit="D"),
        segment="retail",
    )
    path = tmp_path / "features.csv"
    frame.to_csv(path, index=False)
    return path


def test_train_on_a_feature_file_then_show_and_promote(settings, app, tmp_path: Path) -> None:
    import mlflow

    runner = CliRunner()
    path = _feature_file(tmp_path)
    out = runner.invoke(
        app,
        [
            "train",
            "--features",
            str(path),
            "--label",
            "default_next_90d",
            "--time-column",
            "month",
            "--name",
            "byo_default",
        ],
    )
    assert out.exit_code == 0, out.output
    runs = mlflow.search_runs(experiment_names=["byo_default"], filter_string="tags.kind = 'lightgbm'")
    assert len(runs) == 1
    params = runs.iloc[0]
    assert params["params.n_features"] == "4"  # ids, label, time and text columns are not features
    assert params["metrics.valid_roc_auc"] > 0.7
    shown = runner.invoke(app, ["models", "show", "byo_default"])
    assert shown.exit_code == 0 and "v1" in shown.output
    promoted = runner.invoke(app, ["models", "promote", "byo_default"])
    assert promoted.exit_code == 0 and "already champion" in promoted.output


def test_train_without_label_is_a_domain_error(settings, app, tmp_path: Path) -> None:
    from arrisk.errors import ValidationError

    result = CliRunner().invoke(app, ["train", "--features", str(_feature_file(tmp_path, 100))])
    assert isinstance(result.exception, ValidationError)


@pytest.mark.slow
def test_train_config_on_generated_book(settings, app, tmp_path: Path) -> None:
    import yaml

    config = yaml.safe_load(
        (Path(__file__).resolve().parents[1] / "experiments/default_risk.yaml").read_text()
    )
    config["generated"]["n_customers"] = 400
    config["backtest_origins"] = 1
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(config))
    result = CliRunner().invoke(app, ["train", "--config", str(path)])
    assert result.exit_code == 0, result.output
    from models.registry import load_champion

    loaded = load_champion("default_risk")
    assert loaded.version == 1 and loaded.metrics["valid_roc_auc"] > 0.7
