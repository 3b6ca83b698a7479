"""MLflow model registry: log a fitted model as a pyfunc, register it, move aliases, load the champion.

Registered names are ``late_payment``, ``default_risk`` (RiskModel) and ``payment_date``
(PaymentDateModel); aliases ``champion`` (served) and ``challenger`` (latest candidate).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from arrisk.errors import NotFoundError, UnavailableError

CHAMPION = "champion"
CHALLENGER = "challenger"


def pip_requirements() -> list[str]:
    """Pinned runtime libraries of a logged model (the model classes come from this project)."""
    import lightgbm
    import mlflow
    import sklearn

    return [
        f"mlflow=={mlflow.__version__}",
        f"lightgbm=={lightgbm.__version__}",
        f"scikit-learn=={sklearn.__version__}",
        f"pandas=={pd.__version__}",
        f"numpy=={np.__version__}",
    ]


def _pyfunc_classes() -> tuple[type, type]:
    import mlflow.pyfunc

    class RiskModelPyfunc(mlflow.pyfunc.PythonModel):  # type: ignore[name-defined]
        """predict() returns the calibrated probability of the bad outcome per row."""

        def __init__(self, model: Any) -> None:
            self.model = model

        def predict(self, context: Any, model_input: pd.DataFrame, params: dict | None = None) -> np.ndarray:
            return self.model.predict_proba(pd.DataFrame(model_input))

    class PaymentDatePyfunc(mlflow.pyfunc.PythonModel):  # type: ignore[name-defined]
        """predict() returns p10, p50, p90 of days late per row."""

        def __init__(self, model: Any) -> None:
            self.model = model

        def predict(
            self, context: Any, model_input: pd.DataFrame, params: dict | None = None
        ) -> pd.DataFrame:
            return self.model.predict_quantiles(pd.DataFrame(model_input))

    return RiskModelPyfunc, PaymentDatePyfunc


def tracking_uri(uri: str | None = None) -> str:
    """The explicit URI, else MLFLOW_TRACKING_URI, else SQLite under ARRISK_HOME; set as MLflow's current."""
    import mlflow

    from arrisk.settings import get_settings

    settings = get_settings()
    resolved = uri or os.environ.get("MLFLOW_TRACKING_URI") or settings.mlflow_tracking_uri
    if resolved.startswith("sqlite:///"):
        Path(resolved.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(resolved)
    mlflow.set_registry_uri(resolved)
    return resolved


def log_model(model: Any, *, X_example: pd.DataFrame, registered_name: str | None = None) -> Any:
    """Log ``model`` as a pyfunc named ``model`` in the active run, with signature and input example."""
    import mlflow
    from mlflow.models import infer_signature

    from models.payment_date import PaymentDateModel

    risk_cls, date_cls = _pyfunc_classes()
    wrapper = date_cls(model) if isinstance(model, PaymentDateModel) else risk_cls(model)
    example = X_example[model.feature_names_].head(5).astype("float64")
    output = wrapper.predict(None, example)
    return mlflow.pyfunc.log_model(
        name="model",
        python_model=wrapper,
        signature=infer_signature(example, output),
        input_example=example,
        pip_requirements=pip_requirements(),
        registered_model_name=registered_name,
    )


def register_version(model_info: Any, *, name: str, model: Any, metrics: dict[str, float]) -> int:
    """Tag the version just registered and alias it ``challenger`` (and ``champion`` if there is none)."""
    from mlflow import MlflowClient

    client = MlflowClient()
    version = str(model_info.registered_model_version)
    tags = {
        "feature_set_version": getattr(model, "feature_set_version_", "custom"),
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **{f"metric.{k}": f"{v:.6g}" for k, v in metrics.items()},
    }
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)
    client.set_registered_model_alias(name, CHALLENGER, version)
    if alias_version(name, CHAMPION) is None:
        client.set_registered_model_alias(name, CHAMPION, version)
    return int(version)


def alias_version(name: str, alias: str) -> int | None:
    """Version number behind ``name@alias``, or None when the alias (or model) does not exist."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        return int(MlflowClient().get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


@dataclass
class LoadedModel:
    """A registered model version and what the service shows about it."""

    name: str
    alias: str
    version: int
    run_id: str
    model: Any
    trained_at: str
    feature_set_version: str
    metrics: dict[str, float] = field(default_factory=dict)


def load_model(name: str, alias: str = CHAMPION, *, tracking_uri_: str | None = None) -> LoadedModel:
    """Load ``name@alias`` and unwrap the RiskModel / PaymentDateModel object from its pyfunc."""
    import mlflow
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    uri = tracking_uri(tracking_uri_)
    try:
        mv = MlflowClient().get_model_version_by_alias(name, alias)
    except MlflowException as err:
        raise NotFoundError(f"model registry {uri}: no version of {name!r} has alias {alias!r}") from err
    try:
        pyfunc = mlflow.pyfunc.load_model(f"models:/{name}@{alias}")
    except (MlflowException, OSError) as err:
        raise UnavailableError(f"model {name}@{alias} v{mv.version} could not be loaded: {err}") from err
    model = pyfunc.unwrap_python_model().model
    run_metrics = MlflowClient().get_run(mv.run_id).data.metrics if mv.run_id else {}
    return LoadedModel(
        name=name,
        alias=alias,
        version=int(mv.version),
        run_id=mv.run_id or "",
        model=model,
        trained_at=mv.tags.get("trained_at", ""),
        feature_set_version=mv.tags.get("feature_set_version", getattr(model, "feature_set_version_", "")),
        metrics=dict(run_metrics),
    )


def load_champion(name: str, tracking_uri: str | None = None) -> LoadedModel:
    """The served version of ``name``: ``LoadedModel.model`` is the RiskModel, the rest its metadata."""
    return load_model(name, CHAMPION, tracking_uri_=tracking_uri)
