"""Dunning runs (admins and credit analysts start them) and the reasons behind each decision."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from serving.auth import Principal, Role
from serving.deps import EngineDep, SettingsDep, require_roles
from serving.dunning import service
from serving.dunning.schemas import CustomerDunning, DunningRunRequest, DunningRunSummary, DunningRunView
from serving.http_errors import responses

router = APIRouter(prefix="/v1", tags=["dunning"], responses=responses(401, 403, 404, 422))
Runner = Annotated[Principal, require_roles(Role.credit_analyst, Role.admin)]
RunReader = Annotated[Principal, require_roles(Role.credit_analyst, Role.data_scientist, Role.admin)]
Reader = Annotated[
    Principal, require_roles(Role.collector, Role.credit_analyst, Role.data_scientist, Role.admin)
]
RunId = Annotated[str, Path(min_length=1, max_length=64)]


@router.post("/dunning/runs", response_model=DunningRunSummary, status_code=201, responses=responses(409))
def start_run(
    body: DunningRunRequest, engine: EngineDep, settings: SettingsDep, user: Runner
) -> DunningRunSummary:
    """Decide for every customer as of the date; record events and queue messages unless ``dry_run``;
    with ``send``, deliver the outbox (email over SMTP, letters as PDF, call tasks)."""
    letters_dir = settings.reports_dir / "dunning" / "letters"
    return service.start_run(engine, user, body, letters_dir=letters_dir)


@router.get("/dunning/runs/{run_id}", response_model=DunningRunView)
def get_run(run_id: RunId, engine: EngineDep, user: RunReader) -> DunningRunView:
    """The run's header and every invoice decision with its reason."""
    return service.run_with_decisions(engine, run_id)


@router.get("/customers/{customer_id}/dunning", response_model=CustomerDunning)
def customer_dunning(
    customer_id: Annotated[str, Path(min_length=1, max_length=64)],
    engine: EngineDep,
    user: Reader,
    run_id: Annotated[
        str | None, Query(min_length=1, max_length=64, description="newest run if unset")
    ] = None,
) -> CustomerDunning:
    """Why each of the customer's invoices was or was not contacted (404 before any run)."""
    return service.customer_dunning(engine, user, customer_id, run_id=run_id)
