"""Disputes: an open dispute holds dunning for its invoice only, until it is resolved."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from arrisk.collections._records import customer_invoices, get_customer, today
from arrisk.collections.actor import WRITE_ROLES, Actor, new_id, require_role
from arrisk.collections.schemas import DisputeIn, DisputeOut, DisputeOutcome, DisputeResolution, DisputeStatus
from arrisk.errors import ConflictError, NotFoundError, ValidationError
from arrisk.store import audit
from arrisk.store.db import session_scope
from arrisk.store.tables import CreditNote, Dispute, Invoice


def open_dispute(engine: Engine, customer_id: str, dispute: DisputeIn, *, actor: Actor) -> list[DisputeOut]:
    """Open a dispute on one or more invoices (one row per invoice, sharing an id stem)."""
    require_role(actor, WRITE_ROLES, action="open dispute")
    opened = dispute.opened_at or today()
    if dispute.deadline is not None and dispute.deadline < opened:
        raise ValidationError(f"dispute: deadline {dispute.deadline} is before opened_at {opened}")
    stem = new_id("D")
    out = []
    with session_scope(engine) as session:
        get_customer(session, customer_id)
        invoices = customer_invoices(session, customer_id, dispute.invoice_ids)
        for n, invoice in enumerate(invoices, start=1):
            if dispute.amount is not None and len(invoices) == 1 and dispute.amount > invoice.amount:
                raise ValidationError(
                    f"dispute: amount {dispute.amount} exceeds invoice {invoice.invoice_id} "
                    f"amount {invoice.amount}"
                )
            row = Dispute(
                dispute_id=stem if len(invoices) == 1 else f"{stem}-{n}",
                invoice_id=invoice.invoice_id,
                customer_id=customer_id,
                opened_at=opened,
                reason=dispute.reason,
                amount=dispute.amount if len(invoices) == 1 else invoice.amount,
                owner=dispute.owner or actor.user_id,
                deadline=dispute.deadline,
                status=DisputeStatus.open.value,
            )
            session.add(row)
            audit.record_row(session, row, actor=actor.user_id, action="dispute.open")
            out.append(DisputeOut.model_validate(row))
    return out


def resolve_dispute(
    engine: Engine, dispute_id: str, resolution: DisputeResolution, *, actor: Actor
) -> DisputeOut:
    """Close a dispute: credit note issued (optionally booking it), rejected, or withdrawn."""
    require_role(actor, WRITE_ROLES, action="resolve dispute")
    with session_scope(engine) as session:
        row = session.get(Dispute, dispute_id)
        if row is None:
            raise NotFoundError(f"dispute {dispute_id!r} not found")
        if row.status != DisputeStatus.open.value:
            raise ConflictError(
                f"dispute {dispute_id}: already {row.status} ({row.outcome}) on {row.resolved_at}"
            )
        resolved = resolution.resolved_at or today()
        if resolved < row.opened_at:
            raise ValidationError(
                f"dispute {dispute_id}: resolved_at {resolved} is before opened_at {row.opened_at}"
            )
        before = audit.row_dict(row)
        row.status, row.outcome, row.resolved_at = (
            DisputeStatus.resolved.value,
            resolution.outcome.value,
            resolved,
        )
        if resolution.outcome == DisputeOutcome.credit_note and resolution.credit_amount is not None:
            _book_credit_note(session, row, resolution.credit_amount, actor=actor)
        audit.record_row(session, row, actor=actor.user_id, action="dispute.resolve", before=before)
        return DisputeOut.model_validate(row)


def _book_credit_note(session: Session, dispute: Dispute, amount: Decimal, *, actor: Actor) -> None:
    invoice = session.get(Invoice, dispute.invoice_id)
    assert invoice is not None  # the foreign key guarantees it
    if amount > invoice.amount:
        raise ValidationError(
            f"dispute {dispute.dispute_id}: credit {amount} exceeds invoice amount {invoice.amount}"
        )
    note = CreditNote(
        credit_note_id=f"CN-{dispute.dispute_id}",
        customer_id=dispute.customer_id,
        invoice_id=invoice.invoice_id,
        issue_date=dispute.resolved_at,
        amount=amount,
        currency=invoice.currency,
        reason=f"dispute {dispute.dispute_id}: {dispute.reason}",
    )
    session.add(note)
    audit.record_row(session, note, actor=actor.user_id, action="credit_note.create")
