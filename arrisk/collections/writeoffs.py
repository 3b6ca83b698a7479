"""Write-offs of bad debt: requested by one person, approved by another (admin or credit analyst).

Only an approved write-off lowers an invoice's open amount; ``recovery_status`` tracks amounts
still pursued after the write-off.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from arrisk.collections._records import today
from arrisk.collections.actor import APPROVER_ROLES, WRITE_ROLES, Actor, new_id, require_role
from arrisk.collections.schemas import RecoveryStatus, WriteOffIn, WriteOffOut, WriteOffStatus
from arrisk.errors import ConflictError, NotFoundError, PermissionDenied, ValidationError
from arrisk.store import audit
from arrisk.store.db import session_scope
from arrisk.store.tables import Allocation, CreditNote, Invoice, WriteOff


def request_write_off(engine: Engine, request: WriteOffIn, *, actor: Actor) -> WriteOffOut:
    """Ask for a write-off; it changes nothing in the open amount until a second person approves."""
    require_role(actor, WRITE_ROLES, action="request write-off")
    with session_scope(engine) as session:
        invoice = session.get(Invoice, request.invoice_id)
        if invoice is None:
            raise NotFoundError(f"invoice {request.invoice_id!r} not found")
        open_amount = _open_amount(session, invoice)
        if request.amount > open_amount:
            raise ValidationError(
                f"write-off: amount {request.amount} exceeds invoice {invoice.invoice_id} "
                f"open amount {open_amount}"
            )
        row = WriteOff(
            write_off_id=new_id("WO"),
            invoice_id=invoice.invoice_id,
            date=request.date or today(),
            amount=request.amount,
            currency=invoice.currency,
            status=WriteOffStatus.requested.value,
            requested_by=actor.user_id,
            recovery_status=request.recovery_status.value,
        )
        session.add(row)
        audit.record_row(session, row, actor=actor.user_id, action="write_off.request")
        return WriteOffOut.model_validate(row)


def _open_amount(session: Session, invoice: Invoice) -> Decimal:
    """Open amount now: amount less live allocations, credit notes and approved or pending write-offs."""

    def total(stmt) -> Decimal:  # type: ignore[no-untyped-def]
        return Decimal(session.scalar(stmt) or 0)

    paid = total(
        select(func.sum(Allocation.amount)).where(
            Allocation.invoice_id == invoice.invoice_id, Allocation.reversed_at.is_(None)
        )
    )
    credited = total(select(func.sum(CreditNote.amount)).where(CreditNote.invoice_id == invoice.invoice_id))
    written = total(
        select(func.sum(WriteOff.amount)).where(
            WriteOff.invoice_id == invoice.invoice_id, WriteOff.status != WriteOffStatus.rejected.value
        )
    )
    return max(invoice.amount - paid - credited - written, Decimal("0"))


def _decide(engine: Engine, write_off_id: str, *, actor: Actor, approve: bool) -> WriteOffOut:
    verb = "approve" if approve else "reject"
    require_role(actor, APPROVER_ROLES, action=f"{verb} write-off")
    with session_scope(engine) as session:
        row = session.get(WriteOff, write_off_id)
        if row is None:
            raise NotFoundError(f"write-off {write_off_id!r} not found")
        if row.status != WriteOffStatus.requested.value:
            raise ConflictError(
                f"write-off {write_off_id}: status is {row.status}, only a requested one can be decided"
            )
        if row.requested_by == actor.user_id:
            raise PermissionDenied(
                f"write-off {write_off_id}: {actor.user_id} requested it and cannot {verb} it"
            )
        before = audit.row_dict(row)
        row.status = (WriteOffStatus.approved if approve else WriteOffStatus.rejected).value
        row.approved_by = actor.user_id
        audit.record_row(session, row, actor=actor.user_id, action=f"write_off.{verb}", before=before)
        return WriteOffOut.model_validate(row)


def approve_write_off(engine: Engine, write_off_id: str, *, actor: Actor) -> WriteOffOut:
    """Second-person approval: an admin or credit analyst other than the requester."""
    return _decide(engine, write_off_id, actor=actor, approve=True)


def reject_write_off(engine: Engine, write_off_id: str, *, actor: Actor) -> WriteOffOut:
    return _decide(engine, write_off_id, actor=actor, approve=False)


def set_recovery_status(
    engine: Engine, write_off_id: str, status: RecoveryStatus, *, actor: Actor
) -> WriteOffOut:
    """Mark a written-off amount as still pursued (e.g. by an agency) or recovered."""
    require_role(actor, WRITE_ROLES, action="set write-off recovery status")
    with session_scope(engine) as session:
        row = session.get(WriteOff, write_off_id)
        if row is None:
            raise NotFoundError(f"write-off {write_off_id!r} not found")
        if row.status != WriteOffStatus.approved.value:
            raise ConflictError(
                f"write-off {write_off_id}: status is {row.status}; recovery applies to approved ones"
            )
        before = audit.row_dict(row)
        row.recovery_status = status.value
        audit.record_row(session, row, actor=actor.user_id, action="write_off.recovery", before=before)
        return WriteOffOut.model_validate(row)
