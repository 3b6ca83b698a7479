"""``GET /v1/models`` and ``POST /v1/models/reload`` (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from serving.auth import Principal, Role
from serving.deps import EngineDep, ModelsDep, require_roles
from serving.http_errors import responses
from serving.models_admin import service
from serving.models_admin.schemas import ModelList

router = APIRouter(prefix="/v1/models", tags=["models"], responses=responses(401, 403))
Reader = Annotated[Principal, require_roles(Role.data_scientist, Role.credit_analyst, Role.admin)]
Admin = Annotated[Principal, require_roles(Role.admin)]


@router.get("", response_model=ModelList)
def list_models(models: ModelsDep, user: Reader) -> ModelList:
    """Versions, training date, key metrics and feature-set version of each served model."""
    return service.list_models(models)


@router.post("/reload", response_model=ModelList)
def reload_models(engine: EngineDep, models: ModelsDep, user: Admin) -> ModelList:
    """Load the champions again (a model the registry cannot give keeps its current version)."""
    return service.reload_models(engine, models, user=user)
