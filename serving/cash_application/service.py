"""Cash application for the API: ``arrisk.cashapp.service`` results turned into schemas (no FastAPI)."""

from __future__ import annotations

from sqlalchemy import Engine

from arrisk.cashapp import service as cashapp
from arrisk.errors import ValidationError
from serving.auth import Principal
from serving.cash_application.schemas import (
    CashAppExceptionPage,
    ExceptionStatus,
    ManualAllocation,
    Resolution,
    Reversal,
    StatementImport,
)

MAX_STATEMENT_BYTES = 20 * 1024 * 1024


def import_statement(engine: Engine, user: Principal, content: bytes, filename: str) -> StatementImport:
    """Parse, match and post one statement file in one transaction; lines already posted are skipped."""
    if len(content) > MAX_STATEMENT_BYTES:
        raise ValidationError(
            f"statement {filename}: {len(content)} bytes is over the limit of {MAX_STATEMENT_BYTES} bytes"
        )
    result = cashapp.import_statement(engine, content, filename, actor=user.user_id)
    return StatementImport.model_validate(result.as_dict())


def list_exceptions(
    engine: Engine, *, status: ExceptionStatus, limit: int, offset: int
) -> CashAppExceptionPage:
    page = cashapp.list_exceptions(engine, status=status.value, limit=limit, offset=offset)
    return CashAppExceptionPage.model_validate(page)


def resolve_exception(
    engine: Engine, user: Principal, exception_id: int, allocations: list[ManualAllocation]
) -> Resolution:
    pairs = [(a.invoice_id, a.amount) for a in allocations]
    out = cashapp.resolve_exception(engine, exception_id, invoice_allocations=pairs, actor=user.user_id)
    return Resolution.model_validate(out)


def reverse_allocation(engine: Engine, user: Principal, allocation_id: str) -> Reversal:
    return Reversal.model_validate(cashapp.reverse_allocation(engine, allocation_id, actor=user.user_id))
