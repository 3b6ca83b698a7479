"""Bank statement upload (automatic matching and posting), the exceptions queue and reversals.

Admins and credit analysts apply cash; data scientists may read the queue.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Path, Query, UploadFile

from serving.auth import Principal, Role
from serving.cash_application import service
from serving.cash_application.schemas import (
    CashAppExceptionPage,
    ExceptionStatus,
    Resolution,
    ResolutionRequest,
    Reversal,
    StatementImport,
)
from serving.deps import EngineDep, require_roles
from serving.http_errors import responses

router = APIRouter(
    prefix="/v1/cash-application", tags=["cash application"], responses=responses(401, 403, 404, 422)
)
Applier = Annotated[Principal, require_roles(Role.credit_analyst, Role.admin)]
Reader = Annotated[Principal, require_roles(Role.credit_analyst, Role.data_scientist, Role.admin)]


@router.post("/statements", response_model=StatementImport, status_code=201, responses=responses(409))
def upload_statement(
    file: Annotated[UploadFile, File(description="camt.053 XML, BAI2, MT940 or CSV; detected from content")],
    engine: EngineDep,
    user: Applier,
) -> StatementImport:
    """Import a statement: payments, automatic allocations and exceptions in one transaction."""
    content = file.file.read(service.MAX_STATEMENT_BYTES + 1)
    return service.import_statement(engine, user, content, file.filename or "statement")


@router.get("/exceptions", response_model=CashAppExceptionPage)
def list_exceptions(
    engine: EngineDep,
    user: Reader,
    status: ExceptionStatus = ExceptionStatus.open,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> CashAppExceptionPage:
    """Payments not applied automatically, oldest first, each with ranked suggestions."""
    return service.list_exceptions(engine, status=status, limit=limit, offset=offset)


@router.post("/exceptions/{exception_id}/resolve", response_model=Resolution, responses=responses(409))
def resolve_exception(
    exception_id: Annotated[int, Path(ge=1, le=2**62)],
    body: ResolutionRequest,
    engine: EngineDep,
    user: Applier,
) -> Resolution:
    """Apply a person's decision as manual allocations (never touched by automation) and close the item."""
    return service.resolve_exception(engine, user, exception_id, body.allocations)


@router.post("/allocations/{allocation_id}/reverse", response_model=Reversal, responses=responses(409))
def reverse_allocation(
    allocation_id: Annotated[str, Path(min_length=1, max_length=160)], engine: EngineDep, user: Applier
) -> Reversal:
    """Reverse an automatic allocation (dated, the row kept) and put its payment back in the queue."""
    return service.reverse_allocation(engine, user, allocation_id)
