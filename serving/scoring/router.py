"""``POST /v1/score`` and ``GET /v1/customers/{customer_id}/explanation``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response

from serving.auth import Principal, Role
from serving.deps import EngineDep, ModelsDep, require_roles
from serving.http_errors import responses
from serving.scoring import explain, service
from serving.scoring.schemas import CustomerExplanation, RiskModelName, ScoreRequest, ScoreResponse

router = APIRouter(prefix="/v1", tags=["scoring"], responses=responses(401, 403, 422, 503))
Scorer = Annotated[Principal, require_roles(Role.data_scientist, Role.credit_analyst, Role.admin)]
Explainer = Annotated[
    Principal, require_roles(Role.collector, Role.credit_analyst, Role.data_scientist, Role.admin)
]


@router.post("/score", response_model=ScoreResponse)
def score(request: ScoreRequest, models: ModelsDep, user: Scorer) -> Response:
    """Calibrated probabilities of one or many feature rows (``explain=true`` adds SHAP values)."""
    # Built by the service from the schema already: skip FastAPI's second validation pass.
    return Response(service.score_rows(models, request).model_dump_json(), media_type="application/json")


@router.get(
    "/customers/{customer_id}/explanation", response_model=CustomerExplanation, responses=responses(404)
)
def customer_explanation(
    customer_id: Annotated[str, Path(max_length=64)],
    engine: EngineDep,
    models: ModelsDep,
    user: Explainer,
    model: RiskModelName = RiskModelName.default_risk,
) -> CustomerExplanation:
    """Base value, value and contribution of every feature of the customer's score in the newest run."""
    return explain.customer_explanation(engine, models, user=user, customer_id=customer_id, model=model)
