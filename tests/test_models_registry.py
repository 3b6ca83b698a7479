"""MLflow registry round trip on a temporary store: log, register, alias, load the champion back."""

from __future__ import annotations

import numpy as np
import pytest

from models.registry import (
    CHALLENGER,
    CHAMPION,
    alias_version,
    load_champion,
    load_model,
    log_model,
    register_version,
)
from models.risk_model import RiskModel
from tests.test_models_risk_model import book
from training.tracking import ensure_experiment


def _log(model: RiskModel, X, auc: float) -> int:
    import mlflow

    with mlflow.start_run():
        mlflow.log_metric("valid_roc_auc", auc)
        info = log_model(model, X_example=X, registered_name="default_risk")
        return register_version(info, name="default_risk", model=model, metrics={"valid_roc_auc": auc})


def test_first_version_is_champion_and_loads_back(settings) -> None:
    X, y = book(600)
    model = RiskModel("default_risk", n_folds=3).fit(X, y, feature_set_version="fs-7")
    ensure_experiment("default_risk")
    assert _log(model, X, 0.8) == 1
    loaded = load_champion("default_risk")
    assert loaded.version == 1 and loaded.alias == CHAMPION
    assert isinstance(loaded.model, RiskModel)
    np.testing.assert_allclose(loaded.model.predict_proba(X), model.predict_proba(X))
    assert loaded.feature_set_version == "fs-7"
    assert loaded.metrics["valid_roc_auc"] == pytest.approx(0.8)
    assert loaded.trained_at
    artifacts = settings.mlflow_artifact_root / "default_risk"
    assert artifacts.is_dir() and any(artifacts.rglob("MLmodel"))

    # a second version becomes challenger only; the champion stays at v1
    assert _log(model, X, 0.7) == 2
    assert alias_version("default_risk", CHAMPION) == 1
    assert alias_version("default_risk", CHALLENGER) == 2
    assert load_model("default_risk", CHALLENGER).version == 2


def test_missing_champion_is_not_found(settings) -> None:
    from arrisk.errors import NotFoundError

    ensure_experiment("late_payment")
    with pytest.raises(NotFoundError, match="late_payment"):
        load_champion("late_payment")


def test_pyfunc_predict_returns_probabilities(settings) -> None:
    import mlflow

    X, y = book(500)
    model = RiskModel("default_risk", n_folds=3).fit(X, y)
    ensure_experiment("default_risk")
    _log(model, X, 0.75)
    pyfunc = mlflow.pyfunc.load_model("models:/default_risk@champion")
    np.testing.assert_allclose(np.asarray(pyfunc.predict(X.head(20))), model.predict_proba(X.head(20)))
    reqs = (settings.mlflow_artifact_root / "default_risk").rglob("requirements.txt")
    text = next(reqs).read_text()
    assert "lightgbm==" in text and "scikit-learn==" in text
