"""Feature drift between the champion's training reference and the current scoring snapshot.

PSI per feature (numpy, on reference deciles) decides; Evidently's DataDriftPreset with
``method='psi'`` draws the HTML report and its per-column PSI is kept beside ours as a cross-check.
Evidently is imported inside ``evidently_drift`` only, so the service and the CLI start without it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from arrisk.errors import ValidationError
from training.monitoring.policy import DriftPolicy
from training.monitoring.psi import psi_table


@dataclass
class DriftResult:
    """Per-feature PSI and flags, the drifted share and the Evidently snapshot (for the HTML)."""

    features: pd.DataFrame
    n_reference: int
    n_current: int
    policy: DriftPolicy
    evidently_snapshot: Any = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def monitored(self) -> pd.DataFrame:
        return self.features[~self.features["ignored"]]

    @property
    def drifted_share(self) -> float:
        monitored = self.monitored
        return float(monitored["drifted"].mean()) if len(monitored) else 0.0

    @property
    def alerts(self) -> list[str]:
        return self.monitored.loc[self.monitored["alert"], "feature"].tolist()

    @property
    def dataset_drift(self) -> bool:
        return bool(self.alerts) or self.drifted_share > self.policy.max_drifted_share


def common_features(reference: pd.DataFrame, current: pd.DataFrame, wanted: list[str] | None) -> list[str]:
    """The model's features present in both frames; a model feature missing from either is an error."""
    if wanted is None:
        wanted = [c for c in reference.columns if pd.api.types.is_numeric_dtype(reference[c])]
    missing = [
        (name, side)
        for side, frame in (("reference", reference), ("current", current))
        for name in wanted
        if name not in frame.columns
    ]
    if missing:
        name, side = missing[0]
        raise ValidationError(
            f"drift: feature {name!r} is missing from the {side} frame ({len(missing)} missing in all); "
            "was the champion trained on another feature set?"
        )
    return list(wanted)


def _describe(reference: pd.DataFrame, current: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    ref, cur = reference[features].astype("float64"), current[features].astype("float64")
    return pd.DataFrame(
        {
            "ref_mean": ref.mean().to_numpy(),
            "cur_mean": cur.mean().to_numpy(),
            "ref_median": ref.median().to_numpy(),
            "cur_median": cur.median().to_numpy(),
            "ref_missing": ref.isna().mean().to_numpy(),
            "cur_missing": cur.isna().mean().to_numpy(),
        },
        index=features,
    )


def compute_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    features: list[str] | None = None,
    policy: DriftPolicy | None = None,
    with_evidently: bool = True,
) -> DriftResult:
    """PSI of every feature, flags against ``policy`` and (optionally) the Evidently report."""
    policy = policy or DriftPolicy()
    if reference.empty or current.empty:
        side = "reference" if reference.empty else "current"
        raise ValidationError(f"drift: the {side} frame has no rows")
    names = common_features(reference, current, features)
    started = time.perf_counter()
    psi = psi_table(reference, current, names, n_bins=policy.n_bins)
    timings = {"psi_s": time.perf_counter() - started}
    table = _describe(reference, current, names)
    table.insert(0, "psi", psi.to_numpy())
    table["ignored"] = table.index.isin(policy.ignore_features)
    table["drifted"] = table["psi"] >= policy.psi_warn
    table["alert"] = table["psi"] >= policy.psi_alert
    snapshot = None
    table["evidently_psi"] = np.nan
    if with_evidently:
        started = time.perf_counter()
        snapshot, ev_psi = evidently_drift(reference, current, names, policy=policy)
        table["evidently_psi"] = pd.Series(ev_psi, dtype="float64").reindex(table.index).to_numpy()
        timings["evidently_s"] = time.perf_counter() - started
    table = table.rename_axis("feature").reset_index().sort_values("psi", ascending=False, kind="stable")
    return DriftResult(table.reset_index(drop=True), len(reference), len(current), policy, snapshot, timings)


def _sample(frame: pd.DataFrame, rows: int) -> pd.DataFrame:
    return frame.sample(rows, random_state=0) if len(frame) > rows else frame


def evidently_drift(
    reference: pd.DataFrame, current: pd.DataFrame, features: list[str], *, policy: DriftPolicy
) -> tuple[Any, dict[str, float]]:
    """Run Evidently's DataDriftPreset (PSI per column) and return its snapshot and per-column PSI.

    Columns empty (all missing) on either side are left out: Evidently cannot bin them.
    """
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    ref = _sample(reference[features], policy.evidently_max_rows).astype("float64")
    cur = _sample(current[features], policy.evidently_max_rows).astype("float64")
    usable = [c for c in features if ref[c].notna().any() and cur[c].notna().any()]
    definition = DataDefinition(numerical_columns=usable)
    report = Report(
        [
            DataDriftPreset(
                columns=usable, method="psi", threshold=policy.psi_warn, drift_share=policy.max_drifted_share
            )
        ]
    )
    snapshot = report.run(
        current_data=Dataset.from_pandas(cur[usable], data_definition=definition),
        reference_data=Dataset.from_pandas(ref[usable], data_definition=definition),
    )
    return snapshot, _value_drift_psi(snapshot.dict())


def _value_drift_psi(result: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for metric in result.get("metrics", []):
        config = metric.get("config", {})
        if config.get("type", "").endswith(":ValueDrift"):
            out[config["column"]] = float(metric["value"])
    return out
