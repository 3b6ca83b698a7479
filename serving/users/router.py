"""``GET /v1/me``: the caller behind the token (handy to check a token)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from serving.auth import Role
from serving.deps import CurrentUser
from serving.http_errors import responses


class Me(BaseModel):
    user_id: str
    name: str
    role: Role
    collector_id: str | None


router = APIRouter(prefix="/v1", tags=["users"], responses=responses(401))


@router.get("/me", response_model=Me)
def me(user: CurrentUser) -> Me:
    return Me(user_id=user.user_id, name=user.name, role=user.role, collector_id=user.collector_id)
