"""Code tier: metric definitions on hand-checkable inputs, baselines, configuration and splits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from arrisk.errors import NotFoundError, ValidationError
from training.baselines import DaysPastDueRule, Scorecard, dpd_column
from training.config import load_config
from training.metrics import (
    classification_metrics,
    expected_calibration_error,
    ks_statistic,
    pinball_loss,
    quantile_metrics,
    top_decile_capture,
)
from training.validation import TrainingTable, rolling_origins, split_holdout

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"


def test_ks_is_one_for_perfect_separation_and_zero_for_identical_scores() -> None:
    y = np.array([0, 0, 1, 1])
    assert ks_statistic(y, np.array([0.1, 0.2, 0.8, 0.9])) == pytest.approx(1.0)
    assert ks_statistic(y, np.array([0.5, 0.5, 0.5, 0.5])) == pytest.approx(0.0)


def test_ece_of_a_calibrated_and_a_miscalibrated_score() -> None:
    y = np.array([1] * 3 + [0] * 7)
    assert expected_calibration_error(y, np.full(10, 0.3)) == pytest.approx(0.0)
    assert expected_calibration_error(y, np.full(10, 0.8)) == pytest.approx(0.5)


def test_top_decile_capture_counts_bad_outcomes_in_the_riskiest_tenth() -> None:
    y = np.zeros(100)
    y[[0, 1, 50, 99]] = 1
    score = np.linspace(1, 0, 100)  # row 0 riskiest
    assert top_decile_capture(y, score) == pytest.approx(0.5)


def test_classification_metrics_single_class_gives_nan_not_error() -> None:
    out = classification_metrics(np.zeros(5), np.full(5, 0.1))
    assert np.isnan(out["roc_auc"]) and out["bad_rate"] == 0.0


@pytest.mark.parametrize(("alpha", "expected"), [(0.5, 1.0), (0.9, 1.8), (0.1, 0.2)])
def test_pinball_loss(alpha: float, expected: float) -> None:
    # y = 4 predicted as 2: under-prediction costs alpha per day
    assert pinball_loss(np.array([4.0]), np.array([2.0]), alpha) == pytest.approx(expected)
    assert pinball_loss(np.array([0.0]), np.array([2.0]), alpha) == pytest.approx(2 * (1 - alpha))


def test_quantile_metrics_coverage() -> None:
    q = pd.DataFrame({"p10": [0.0, 0.0, 0.0, 0.0], "p50": [1.0] * 4, "p90": [2.0] * 4})
    out = quantile_metrics(np.array([1.0, 3.0, -1.0, 2.0]), q)
    assert out["coverage_p10_p90"] == pytest.approx(0.5)


def test_dpd_rule_orders_by_band_and_picks_the_column() -> None:
    assert dpd_column(["open_amount", "oldest_days_past_due", "share_late_over_0d"]) == "oldest_days_past_due"
    X = pd.DataFrame({"oldest_days_past_due": [0, 0, 45, 45, 120, 120]})
    rule = DaysPastDueRule("oldest_days_past_due").fit(X, np.array([0, 0, 0, 1, 1, 1]))
    p = rule.predict_proba(X)
    assert p[0] < p[2] < p[4]


def test_scorecard_handles_missing_and_constant_columns() -> None:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {"a": rng.normal(size=400), "const": 1.0, "gappy": np.where(rng.random(400) < 0.3, np.nan, 1.0)}
    )
    y = (X["a"] + rng.normal(scale=0.5, size=400) > 0).astype(int).to_numpy()
    p = Scorecard().fit(X, y).predict_proba(X)
    assert classification_metrics(y, p)["roc_auc"] > 0.8


def test_shipped_experiment_configs_validate() -> None:
    for name in ("default_risk", "late_payment"):
        config = load_config(EXPERIMENTS / f"{name}.yaml")
        assert config.name == name and max(config.train_as_of) < min(config.valid_as_of)


def test_config_rejects_training_labels_that_overlap_validation(tmp_path: Path) -> None:
    text = (EXPERIMENTS / "default_risk.yaml").read_text().replace("2026-04-30]", "2026-06-30]")
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(ValidationError, match="2026-06-30.*label horizon 90"):
        load_config(tmp_path / "bad.yaml")
    with pytest.raises(NotFoundError):
        load_config(tmp_path / "absent.yaml")


def test_unknown_config_key_is_named(tmp_path: Path) -> None:
    text = (EXPERIMENTS / "default_risk.yaml").read_text() + "\nlearning_rate: 0.1\n"
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(ValidationError, match="learning_rate"):
        load_config(tmp_path / "bad.yaml")


def _table(n_times: int = 6, per: int = 50) -> TrainingTable:
    times = pd.Timestamp("2025-01-31") + pd.to_timedelta(np.repeat(np.arange(n_times) * 30, per), unit="D")
    y = np.tile([0, 1], n_times * per // 2)
    return TrainingTable(pd.DataFrame({"as_of": times, "x": np.arange(len(y)), "label": y}), ["x"])


def test_holdout_puts_the_latest_times_in_validation() -> None:
    table = _table()
    train, valid = split_holdout(table, valid_share=0.2)
    assert train["as_of"].max() < valid["as_of"].min()


def test_rolling_origins_respect_the_embargo() -> None:
    folds = list(rolling_origins(_table(), n_origins=2, embargo_days=60))
    assert len(folds) == 2
    for origin, train, valid in folds:
        assert (train["as_of"] + pd.Timedelta(days=60) <= origin).all()
        assert (valid["as_of"] >= origin).all()


@pytest.mark.parametrize("dataset", ["uci-credit", "ibm-ar", "home-credit"])
def test_shipped_evaluation_protocols_match_the_built_in_ones(dataset: str) -> None:
    from training.config import load_evaluation_config

    shipped = load_evaluation_config(EXPERIMENTS / f"{dataset.replace('-', '_')}.yaml", dataset)
    assert shipped == load_evaluation_config(None, dataset)
    with pytest.raises(ValidationError, match="no evaluation protocol"):
        load_evaluation_config(None, "german-credit")
