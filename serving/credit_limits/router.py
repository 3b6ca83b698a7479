"""Credit-limit recommendations (credit analysts, admins) and decisions (credit analysts)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from serving.auth import Principal, Role
from serving.credit_limits import service
from serving.credit_limits.schemas import Decision, DecisionRequest, Recommendation, RecommendationRequest
from serving.deps import EngineDep, ModelsDep, PoliciesDep, SettingsDep, require_roles
from serving.http_errors import responses

router = APIRouter(
    prefix="/v1/credit-limits", tags=["credit limits"], responses=responses(401, 403, 404, 422)
)
Analyst = Annotated[Principal, require_roles(Role.credit_analyst, Role.admin)]
Decider = Annotated[Principal, require_roles(Role.credit_analyst)]
RecId = Annotated[int, Path(ge=1, le=2**62)]


@router.post("/recommendations", response_model=Recommendation, status_code=201, responses=responses(503))
def recommend(
    request: RecommendationRequest,
    engine: EngineDep,
    models: ModelsDep,
    policies: PoliciesDep,
    settings: SettingsDep,
    user: Analyst,
) -> Recommendation:
    """The limit maximising expected profit under the expected-loss cap, in bounded steps, with reasons."""
    return service.recommend(
        engine,
        models,
        policies.credit_limit,
        user=user,
        request=request,
        base_currency=settings.base_currency,
    )


@router.get("/recommendations/{recommendation_id}", response_model=Recommendation)
def get_recommendation(recommendation_id: RecId, engine: EngineDep, user: Analyst) -> Recommendation:
    return service.get_recommendation(engine, recommendation_id)


@router.post(
    "/recommendations/{recommendation_id}/decision", response_model=Decision, responses=responses(409)
)
def decide(recommendation_id: RecId, decision: DecisionRequest, engine: EngineDep, user: Decider) -> Decision:
    """Approve (the recommended limit) or override (a limit and a reason): sets the customer's limit."""
    return service.decide(engine, recommendation_id, decision, user=user)
