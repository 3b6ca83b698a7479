"""List and reload the served models; a reload is written to the audit log."""

from __future__ import annotations

import math

from sqlalchemy import Engine

from arrisk.store.audit import record
from arrisk.store.db import session_scope
from serving.auth import Principal
from serving.model_store import ModelSlot, ModelStore
from serving.models_admin.schemas import ModelInfo, ModelList

KEY_METRICS = ("roc_auc", "pr_auc", "ece", "brier", "log_loss", "mae", "coverage", "pinball")


def _key_metrics(metrics: dict[str, float]) -> dict[str, float]:
    keep = {k: float(v) for k, v in metrics.items() if any(m in k for m in KEY_METRICS)} or dict(metrics)
    return {k: v for k, v in keep.items() if isinstance(v, int | float) and math.isfinite(v)}


def model_info(slot: ModelSlot) -> ModelInfo:
    lm = slot.loaded
    return ModelInfo(
        name=slot.name,
        source=slot.source,
        error=slot.error,
        alias=lm.alias if lm else None,
        version=lm.version if lm else None,
        run_id=lm.run_id if lm else None,
        trained_at=lm.trained_at if lm else None,
        feature_set_version=lm.feature_set_version if lm else None,
        metrics=_key_metrics(lm.metrics) if lm else {},
    )


def list_models(models: ModelStore) -> ModelList:
    return ModelList(registry_uri=models.registry_uri, models=[model_info(s) for s in models.slots.values()])


def reload_models(engine: Engine, models: ModelStore, *, user: Principal) -> ModelList:
    before = models.versions()
    models.load_all()
    with session_scope(engine) as session:
        record(
            session,
            actor=user.user_id,
            action="reload",
            entity="models",
            entity_id="champions",
            before=before,
            after=models.versions(),
        )
    return list_models(models)
