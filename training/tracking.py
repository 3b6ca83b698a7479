"""MLflow tracking setup: the URI, and experiments whose artifacts live under ARRISK_HOME."""

from __future__ import annotations

from models.registry import tracking_uri


def ensure_experiment(name: str, *, uri: str | None = None) -> str:
    """Set tracking to ``uri`` (or the default) and make ``name`` the active experiment; returns its id.

    A new experiment gets ``artifact_location`` under ``get_settings().mlflow_artifact_root`` so model
    files sit beside the SQLite store, not in the working directory.
    """
    import mlflow

    from arrisk.settings import get_settings

    tracking_uri(uri)
    experiment = mlflow.get_experiment_by_name(name)
    if experiment is None:
        root = get_settings().mlflow_artifact_root
        root.mkdir(parents=True, exist_ok=True)
        experiment_id = mlflow.create_experiment(name, artifact_location=(root / name).as_uri())
    else:
        experiment_id = experiment.experiment_id
    mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id
