"""Scale-out: train the served booster with ``lightgbm.dask`` when a Dask scheduler is configured.

Only the final booster (all training rows) is distributed; early stopping and the out-of-fold
calibrator run where they ran before. Distributed LightGBM builds its histograms from each worker's
partition, so trees are close to, not identical with, the single-machine ones (see the test's tolerance).
"""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from arrisk.errors import UnavailableError


def get_client(scheduler: str | None = None) -> Any | None:
    """A client of ``scheduler`` (default: ``get_settings().dask_scheduler``), or None when unset."""
    from arrisk.settings import get_settings

    address = scheduler or get_settings().dask_scheduler
    if not address:
        return None
    from distributed import Client

    try:
        return Client(address, timeout=10)
    except OSError as err:
        raise UnavailableError(
            f"Dask scheduler {address} (ARRISK_DASK_SCHEDULER) does not answer: {err}"
        ) from err


def dask_booster(
    client: Any, params: dict[str, Any], X: pd.DataFrame, y: np.ndarray, *, num_boost_round: int
) -> lgb.Booster:
    """Train a binary booster over the cluster and bring it back as a plain (picklable) Booster."""
    import dask.dataframe as dd
    from lightgbm.dask import DaskLGBMClassifier

    n_parts = max(1, len(client.scheduler_info()["workers"]))
    dX = dd.from_pandas(X.reset_index(drop=True), npartitions=n_parts)
    dy = dd.from_pandas(pd.Series(y, name="label"), npartitions=n_parts)
    dX, dy = client.persist([dX, dy])
    lgb_params = {k: v for k, v in params.items() if k not in ("metric", "force_row_wise", "num_threads")}
    model = DaskLGBMClassifier(client=client, n_estimators=num_boost_round, **lgb_params)
    model.fit(dX, dy)
    return model.to_local().booster_
