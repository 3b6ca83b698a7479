"""``arrisk monitor drift`` end to end: champion + reference from MLflow, current snapshot, report, run.

A drift run is logged to the MLflow experiment ``monitoring`` with tags ``model_name``,
``model_version``, ``kind=drift`` and ``as_of``; its summary also goes to ``monitoring_results``
when an engine is given.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from arrisk.errors import NotFoundError, UnavailableError
from arrisk.ledger.frames import LedgerFrames
from arrisk.settings import Settings
from training.monitoring.drift import compute_drift
from training.monitoring.policy import DriftPolicy
from training.monitoring.reports import build_summary, write_report

MONITORING_EXPERIMENT = "monitoring"
REFERENCE_ARTIFACT = "reference/features.parquet"
ENTITY_OF = {"default_risk": "customer", "late_payment": "invoice"}


def entity_of(model_name: str, features: list[str] | None = None) -> str:
    """customer or invoice: by registered name, else by whether the features include invoice columns."""
    if model_name in ENTITY_OF:
        return ENTITY_OF[model_name]
    return "invoice" if features and any(f.startswith("inv_") for f in features) else "customer"


def load_reference(run_id: str, *, model_name: str, tracking_uri: str | None = None) -> pd.DataFrame:
    """The training features sample the champion's run logged as ``reference/features.parquet``."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from models.registry import tracking_uri as set_tracking_uri

    set_tracking_uri(tracking_uri)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=REFERENCE_ARTIFACT, dst_path=tmp
            )
        except (MlflowException, OSError) as err:
            raise NotFoundError(
                f"model {model_name}: run {run_id} has no artifact {REFERENCE_ARTIFACT} "
                "to compare drift against"
            ) from err
        return pd.read_parquet(path)


def current_features(frames: LedgerFrames, as_of: date | pd.Timestamp | str, *, entity: str) -> pd.DataFrame:
    """The scoring snapshot as of ``as_of``: one row per customer, or per open invoice."""
    from features.pipeline import build_snapshot

    snapshot = build_snapshot(frames, as_of)
    return snapshot.customers if entity == "customer" else snapshot.invoices


def drift_between(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    settings: Settings,
    meta: dict[str, Any],
    features: list[str] | None = None,
    policy: DriftPolicy | None = None,
    log_to_mlflow: bool = True,
    with_evidently: bool = True,
    tracking_uri: str | None = None,
    engine: Engine | None = None,
) -> dict[str, Any]:
    """Compare two frames, write the report under ARRISK_HOME, log it; returns the summary.

    ``meta`` needs ``model`` and ``as_of``; ``version``, ``run_id``, ``entity`` are carried along.
    """
    result = compute_drift(
        reference, current, features=features, policy=policy, with_evidently=with_evidently
    )
    summary = build_summary(result, meta=meta)
    folder = write_report(result, summary, settings)
    if log_to_mlflow:
        summary["mlflow_run_id"] = log_drift_run(summary, folder, result.features, tracking_uri=tracking_uri)
        (folder / "summary.json").write_text(_dumps(summary), encoding="utf-8")
    if engine is not None:
        from training.monitoring.results import save_result

        save_result(
            engine,
            kind="drift",
            model=meta["model"],
            version=meta.get("version"),
            period=str(meta["as_of"]),
            payload=summary,
        )
    return summary


def _dumps(summary: dict[str, Any]) -> str:
    import json

    return json.dumps(summary, indent=2, default=str)


def log_drift_run(
    summary: dict[str, Any], folder: Path, table: pd.DataFrame, *, tracking_uri: str | None
) -> str:
    """One MLflow run per drift check: PSI per feature as metrics, the report folder as artifacts."""
    import mlflow

    from training.tracking import ensure_experiment

    ensure_experiment(MONITORING_EXPERIMENT, uri=tracking_uri)
    tags = {
        "kind": "drift",
        "model_name": summary["model"],
        "model_version": str(summary.get("version", "")),
        "as_of": str(summary["as_of"]),
        "dataset_drift": str(summary["dataset_drift"]).lower(),
    }
    with mlflow.start_run(
        run_name=f"drift-{summary['model']}-v{summary.get('version', '')}-{summary['as_of']}"
    ) as run:
        mlflow.set_tags(tags)
        metrics = {"drifted_share": summary["drifted_share"], "n_drifted": summary["n_drifted"]}
        metrics.update(
            {f"psi.{f}": v for f, v in zip(table["feature"], table["psi"], strict=True) if np.isfinite(v)}
        )
        mlflow.log_metrics(metrics)
        mlflow.log_artifacts(str(folder), artifact_path="drift")
    return run.info.run_id


def run_drift(
    frames: LedgerFrames,
    *,
    as_of: date | pd.Timestamp | str,
    model_name: str,
    settings: Settings,
    policy: DriftPolicy | None = None,
    tracking_uri: str | None = None,
    engine: Engine | None = None,
    log_to_mlflow: bool = True,
    with_evidently: bool = True,
) -> dict[str, Any]:
    """Drift of the store's snapshot at ``as_of`` against the champion of ``model_name``."""
    from models.registry import load_champion

    champion = load_champion(model_name, tracking_uri=tracking_uri)
    wanted = list(getattr(champion.model, "feature_names_", []) or []) or None
    entity = entity_of(model_name, wanted)
    reference = load_reference(champion.run_id, model_name=model_name, tracking_uri=tracking_uri)
    current = current_features(frames, as_of, entity=entity)
    if current.empty:
        raise UnavailableError(f"drift {model_name}: the store has no {entity} rows as of {as_of}")
    meta = {
        "model": model_name,
        "version": champion.version,
        "model_run_id": champion.run_id,
        "entity": entity,
        "as_of": str(pd.Timestamp(as_of).date()),
        "feature_set_version": champion.feature_set_version,
    }
    return drift_between(
        reference,
        current,
        settings=settings,
        meta=meta,
        features=wanted,
        policy=policy,
        log_to_mlflow=log_to_mlflow,
        with_evidently=with_evidently,
        tracking_uri=tracking_uri,
        engine=engine,
    )
