"""The FastAPI app factory. Routers come from ``ROUTERS``; models and engine are built in the lifespan."""

from __future__ import annotations

import gc
import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine

from serving.http_errors import install_error_handlers
from serving.settings import ServingSettings, get_serving_settings

log = logging.getLogger("serving")

# Each entry is a module with a module-level ``router`` (fastapi.APIRouter); order = order in /docs.
ROUTERS: list[str] = [
    "serving.health",
    "serving.users.router",
    "serving.worklist.router",
    "serving.customers.router",
    "serving.scoring.router",
    "serving.credit_limits.router",
    "serving.models_admin.router",
    "serving.collections.router",
    "serving.dunning.router",
    "serving.cash_application.router",
    "serving.monitoring.router",
]


@dataclass
class Policies:
    worklist: Any
    credit_limit: Any


def load_policies(settings: ServingSettings) -> Policies:
    from models.credit_limit import load_policy
    from serving.worklist.policy import load_worklist_policy

    return Policies(
        worklist=load_worklist_policy(settings.worklist_policy),
        credit_limit=load_policy(settings.credit_limit_policy),
    )


def _freeze_startup_heap() -> None:
    """Move what start-up built (models, pandas, SQLAlchemy metadata) out of the collector's reach.

    Without it, each full garbage collection walks that heap and stalls a request for 100+ ms
    (measured: p50 2.2 ms, p99 140 ms for a worklist page at one connection); frozen objects are
    never collected, which is right for what lives as long as the process.
    """
    gc.collect()
    gc.freeze()


def _lifespan(engine: Engine | None) -> Any:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from arrisk.store.db import get_engine
        from serving.model_store import ModelStore

        settings: ServingSettings = app.state.settings
        owned = engine is None
        app.state.engine = engine or get_engine(settings)
        app.state.policies = load_policies(settings)
        app.state.models = ModelStore(registry_uri=settings.registry_uri, cache_dir=settings.models_cache_dir)
        if settings.load_models_at_startup:
            app.state.models.load_all()
        app.state.explanations = None
        _freeze_startup_heap()
        yield
        if owned:
            app.state.engine.dispose()

    return lifespan


def create_app(settings: ServingSettings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """A new app; pass ``engine`` to serve an existing store (tests), else it is built from settings."""
    app = FastAPI(
        title="arrisk risk service",
        version="1",
        description="Collection worklists, customer risk, scoring with explanations and credit limits.",
        lifespan=_lifespan(engine),
    )
    from serving.auth import TokenCache

    app.state.settings = settings or get_serving_settings()
    app.state.token_cache = TokenCache(ttl=app.state.settings.token_cache_seconds)
    install_error_handlers(app)
    for name in ROUTERS:
        app.include_router(importlib.import_module(name).router)
    return app
