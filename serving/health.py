"""``GET /health``: the only endpoint without a token; says which models serve and from where."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import func, select, text

from serving.deps import EngineDep, ModelsDep
from serving.tables import WorklistRun


class ModelHealth(BaseModel):
    name: str
    source: str  # registry | cache | missing
    version: int | None
    error: str | None


class Health(BaseModel):
    status: str  # ok | degraded
    database: str
    models: list[ModelHealth]
    worklist_as_of: dt.date | None
    notes: list[str]


router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
def health(engine: EngineDep, models: ModelsDep) -> Health:
    notes: list[str] = []
    as_of = None
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
            as_of = conn.execute(select(func.max(WorklistRun.as_of))).scalar()
        database = "ok"
    except Exception as err:  # health must answer even when the store does not
        database = f"unreachable: {type(err).__name__}"
    slots = [
        ModelHealth(
            name=s.name,
            source=s.source,
            version=s.loaded.version if s.loaded is not None else None,
            error=s.error,
        )
        for s in models.slots.values()
    ]
    for s in slots:
        if s.source == "cache":
            notes.append(f"model {s.name} serves from the local copy: the registry could not be reached")
        elif s.source == "missing":
            notes.append(f"model {s.name} is missing: endpoints that need it answer 503")
    if as_of is None:
        notes.append("no worklist snapshot yet: run `arrisk score --as-of DATE`")
    ok = database == "ok" and all(s.source == "registry" for s in slots) and as_of is not None
    return Health(
        status="ok" if ok else "degraded", database=database, models=slots, worklist_as_of=as_of, notes=notes
    )
