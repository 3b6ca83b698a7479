"""A customer's full explanation, from the newest run's features; cached per run, customer and model."""

from __future__ import annotations

from functools import lru_cache

import pandas as pd
from sqlalchemy import Engine, exc, insert, select

from arrisk.errors import NotFoundError, UnavailableError, ValidationError
from serving.auth import Principal
from serving.customers.access import visible_customer
from serving.model_store import ModelStore
from serving.scoring.schemas import CustomerExplanation, Explanation, RiskModelName
from serving.scoring.service import explanation_of
from serving.tables import ExplanationCache
from serving.worklist.service import current_run


@lru_cache(maxsize=2)
def run_features(path: str) -> pd.DataFrame:
    """The customer feature table a run wrote (read once per process, indexed by customer id)."""
    try:
        return pd.read_parquet(path).set_index("customer_id")
    except OSError as err:
        raise UnavailableError(
            f"features of the worklist run are missing at {path}: run `arrisk score` again"
        ) from err


def customer_row(path: str, customer_id: str) -> pd.DataFrame:
    features = run_features(path)
    if customer_id not in features.index:
        raise NotFoundError(f"customer {customer_id!r} has no features in the newest worklist run")
    return features.loc[[customer_id]].reset_index()


def _cached(engine: Engine, key: dict[str, object]) -> ExplanationCache | None:
    with engine.connect() as conn:
        return conn.execute(select(ExplanationCache).filter_by(**key)).first()  # type: ignore[return-value]


def _store(engine: Engine, key: dict[str, object], e: Explanation) -> None:
    values = {
        **key,
        "base_value": e.base_value,
        "raw_score": e.raw_score,
        "probability": e.probability,
        "contributions": [c.model_dump() for c in e.contributions],
        "created_at": pd.Timestamp.now(tz="UTC").to_pydatetime(),
    }
    try:
        with engine.begin() as conn:
            conn.execute(insert(ExplanationCache).values(**values))
    except exc.IntegrityError:
        pass  # a concurrent request cached the same explanation first


def customer_explanation(
    engine: Engine, models: ModelStore, *, user: Principal, customer_id: str, model: RiskModelName
) -> CustomerExplanation:
    visible_customer(engine, user, customer_id)
    loaded = models.get(model.value)
    run = current_run(engine)
    key = {
        "run_id": run.run_id,
        "customer_id": customer_id,
        "model_name": model.value,
        "model_version": loaded.version,
    }
    hit = _cached(engine, key)
    if hit is not None:
        return CustomerExplanation(
            model=model,
            version=loaded.version,
            base_value=hit.base_value,
            raw_score=hit.raw_score,
            probability=hit.probability,
            contributions=hit.contributions,
            customer_id=customer_id,
            run_id=run.run_id,
            cached=True,
        )
    if not run.features_path:
        raise UnavailableError(f"worklist run {run.run_id} kept no features: run `arrisk score` again")
    row = customer_row(run.features_path, customer_id)
    missing = [f for f in loaded.model.feature_names_ if f not in row.columns]
    if missing:
        raise ValidationError(
            f"model {model.value} reads features {missing[:5]} that are not customer features; "
            "explain its rows with POST /v1/score and explain=true"
        )
    explanation = explanation_of(loaded, model, row)[0]
    _store(engine, key, explanation)
    return CustomerExplanation(
        **explanation.model_dump(), customer_id=customer_id, run_id=run.run_id, cached=False
    )
