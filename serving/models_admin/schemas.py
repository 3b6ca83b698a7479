from __future__ import annotations

from pydantic import BaseModel, Field


class ModelInfo(BaseModel):
    name: str
    source: str = Field(description="registry | cache (registry unreachable) | missing")
    alias: str | None
    version: int | None
    run_id: str | None
    trained_at: str | None
    feature_set_version: str | None
    metrics: dict[str, float]
    error: str | None


class ModelList(BaseModel):
    registry_uri: str
    models: list[ModelInfo]
