"""PSI in numpy against known values and against Evidently; the monitoring policy file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from arrisk.errors import NotFoundError, ValidationError
from training.monitoring.policy import MonitoringPolicy, load_policy
from training.monitoring.psi import bin_shares, decile_edges, psi, psi_evidently_binning, psi_table


def test_psi_of_a_sample_against_itself_is_zero() -> None:
    x = np.random.default_rng(0).normal(size=5000)
    assert psi(x, x) == pytest.approx(0.0, abs=1e-12)


def test_psi_by_hand_on_two_bins() -> None:
    # reference deciles of 0/1 data collapse to one edge at 0: bins (-inf, 0], (0, inf), NaN
    ref = np.array([0.0] * 50 + [1.0] * 50)
    cur = np.array([0.0] * 20 + [1.0] * 80)
    expected = (0.2 - 0.5) * np.log(0.2 / 0.5) + (0.8 - 0.5) * np.log(0.8 / 0.5)
    assert psi(ref, cur) == pytest.approx(expected, rel=1e-9)


def test_psi_grows_with_the_shift_and_is_near_known_value_for_normals() -> None:
    rng = np.random.default_rng(1)
    ref = rng.normal(size=200_000)
    values = [psi(ref, rng.normal(loc=shift, size=200_000)) for shift in (0.0, 0.1, 0.3, 0.6)]
    assert values == sorted(values)
    assert values[0] < 0.001
    # decile PSI of N(0,1) vs N(0.3,1) is about 0.089 (close to the continuous 0.3^2 = 0.09)
    assert values[2] == pytest.approx(0.089, abs=0.006)


def test_missing_values_get_their_own_bin() -> None:
    ref = np.arange(100, dtype="float64")
    cur = ref.copy()
    cur[:30] = np.nan
    shares = bin_shares(cur, decile_edges(ref))
    assert shares[-1] == pytest.approx(0.3)
    assert shares.sum() == pytest.approx(1.0)
    assert psi(ref, cur) > 0.25


def test_values_beyond_the_reference_range_land_in_the_end_bins() -> None:
    ref = np.linspace(0, 1, 1000)
    shares = bin_shares(np.array([-5.0, 50.0]), decile_edges(ref))
    assert shares[0] == 0.5 and shares[-2] == 0.5


def test_psi_table_is_indexed_by_feature() -> None:
    rng = np.random.default_rng(2)
    ref = pd.DataFrame({"a": rng.normal(size=3000), "b": rng.normal(size=3000)})
    cur = pd.DataFrame({"a": rng.normal(size=3000), "b": rng.normal(1.0, size=3000)})
    table = psi_table(ref, cur, ["a", "b"])
    assert list(table.index) == ["a", "b"]
    assert table["a"] < 0.02 < 0.25 < table["b"]


def test_numpy_psi_reproduces_evidentlys_psi_per_column() -> None:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    rng = np.random.default_rng(3)
    n = 4000
    ref = pd.DataFrame(
        {
            "cont": rng.gamma(2.0, 10.0, n),
            "count": rng.poisson(3, n).astype("float64"),
            "with_nan": np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n)),
        }
    )
    cur = pd.DataFrame(
        {
            "cont": rng.gamma(2.0, 13.0, n),
            "count": rng.poisson(4, n).astype("float64"),
            "with_nan": np.where(rng.random(n) < 0.4, np.nan, rng.normal(0.5, size=n)),
        }
    )
    definition = DataDefinition(numerical_columns=list(ref.columns))
    snapshot = Report([DataDriftPreset(method="psi")]).run(
        current_data=Dataset.from_pandas(cur, data_definition=definition),
        reference_data=Dataset.from_pandas(ref, data_definition=definition),
    )
    evidently = {
        m["config"]["column"]: m["value"]
        for m in snapshot.dict()["metrics"]
        if m["config"]["type"].endswith(":ValueDrift")
    }
    for column in ref.columns:
        assert psi_evidently_binning(ref[column], cur[column]) == pytest.approx(evidently[column], rel=1e-9)


def test_repository_policy_parses_with_sane_levels() -> None:
    policy = load_policy()
    assert isinstance(policy, MonitoringPolicy)
    assert policy.drift.psi_warn < policy.drift.psi_alert
    assert "default_risk" in policy.models


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("drift: {psi_warn: 0.3, psi_alert: 0.2}", "psi_alert 0.2 is below psi_warn 0.3"),
        ("drift: {max_drifted_share: 2}", "drift.max_drifted_share"),
        ("performance: {max_auc_drop: -0.1}", "performance.max_auc_drop"),
        ("drift: {psi_limit: 0.2}", "drift.psi_limit"),
        ("drift: [unclosed", "not valid YAML"),
    ],
)
def test_bad_policy_is_rejected_naming_the_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "monitoring.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError, match=message):
        load_policy(path)


def test_missing_policy_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        load_policy(tmp_path / "nope.yaml")
