"""Scale-out: lightgbm.dask on a LocalCluster (127.0.0.1) trains and scores like the single machine.

Tolerance: ROC-AUC within 0.02 of the single-machine model and mean |probability difference| < 0.03
(distributed LightGBM bins and splits per partition, so trees differ slightly).
"""

from __future__ import annotations

import numpy as np
import pytest

from models.risk_model import RiskModel
from tests.test_models_risk_model import book
from training.metrics import classification_metrics


@pytest.mark.slow
def test_dask_training_matches_single_machine() -> None:
    from distributed import Client, LocalCluster

    X, y = book(4000, seed=4)
    X_test, y_test = book(2000, seed=5)
    single = RiskModel(n_folds=3).fit(X, y)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None, processes=True
        ) as cluster,
        Client(cluster) as client,
    ):
        distributed = RiskModel(n_folds=3).fit(X, y, dask_client=client)
    assert distributed.best_iteration_ == single.best_iteration_
    p_single, p_dist = single.predict_proba(X_test), distributed.predict_proba(X_test)
    auc_single = classification_metrics(y_test, p_single)["roc_auc"]
    auc_dist = classification_metrics(y_test, p_dist)["roc_auc"]
    assert auc_dist == pytest.approx(auc_single, abs=0.02)
    assert np.mean(np.abs(p_single - p_dist)) < 0.03
    # still a plain, picklable booster with SHAP values that add up
    contrib, base = distributed.explain(X_test.head(20))
    np.testing.assert_allclose(
        contrib.sum(axis=1) + base, distributed.predict_raw(X_test.head(20)), atol=1e-9
    )
