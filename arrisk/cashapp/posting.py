"""Turn line matches into ledger rows: payments, automatic allocations, write-offs, exceptions.

Called inside the import's one transaction; it only adds rows (and links a consumed credit note
to the invoice it reduced), so a rollback leaves the ledger as it was.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from arrisk.cashapp.book import OpenBook
from arrisk.cashapp.ledger_io import CREDIT_NOTE_PREFIX
from arrisk.cashapp.proposals import LineMatch, LineStatus, Proposal
from arrisk.cashapp.tables import CashAppException
from arrisk.store.audit import record, row_dict
from arrisk.store.tables import Allocation, CreditNote, Payment, WriteOff

CENT = Decimal("0.01")


def money(cents: int) -> Decimal:
    return (Decimal(int(cents)) / 100).quantize(CENT)


def payment_id_for(bank_line_id: str) -> str:
    return "BNK-" + hashlib.sha256(bank_line_id.encode()).hexdigest()[:28]


def suggestion_json(p: Proposal, book: OpenBook) -> dict[str, Any]:
    return {
        "confidence": p.confidence,
        "rule": p.rule,
        "customer_id": p.customer_id,
        "evidence": p.evidence,
        "allocations": [
            {
                "invoice_id": str(book.item_id[pos]),
                "amount": str(money(c)),
                "currency": str(book.currency[pos]),
            }
            for pos, c in zip(p.positions, p.cents, strict=True)
        ],
    }


def post_line(
    session: Session,
    match: LineMatch,
    book: OpenBook,
    *,
    bank_line_id: str,
    statement_id: int,
    actor: str,
    write_off_short: bool,
) -> dict[str, int]:
    """Post one credit line; returns what it added (payments, allocations, exceptions, write_offs)."""
    line = match.line
    best = match.best if match.status == LineStatus.AUTO else None
    payment = Payment(
        payment_id=payment_id_for(bank_line_id),
        customer_id=match.customer_id,
        payment_date=line.booking_date,
        amount=line.amount,
        currency=line.currency,
        method="bank_transfer",
        reference=line.remittance or None,
        payer_name=line.payer_name,
        payer_account=line.payer_account,
        bank_line_id=bank_line_id,
    )
    session.add(payment)
    session.flush()
    record(
        session,
        actor=actor,
        action="cashapp.payment",
        entity="payments",
        entity_id=payment.payment_id,
        after=row_dict(payment),
    )
    added = {"payments": 1, "allocations": 0, "exceptions": 0, "write_offs": 0}
    if best is not None:
        added.update(_post_auto(session, best, book, payment, actor=actor, write_off_short=write_off_short))
        return added
    kind = "suggested" if match.status == LineStatus.SUGGESTED else "unapplied"
    exception = CashAppException(
        statement_id=statement_id,
        payment_id=payment.payment_id,
        kind=kind,
        status="open",
        customer_id=match.customer_id,
        amount=line.amount,
        currency=line.currency,
        suggestions=[suggestion_json(p, book) for p in match.proposals],
    )
    session.add(exception)
    session.flush()
    record(
        session,
        actor=actor,
        action="cashapp.exception",
        entity="cashapp_exceptions",
        entity_id=str(exception.exception_id),
        after=row_dict(exception),
    )
    added["exceptions"] = 1
    return added


def _post_auto(
    session: Session, p: Proposal, book: OpenBook, payment: Payment, *, actor: str, write_off_short: bool
) -> dict[str, int]:
    cash: dict[str, int] = {}
    credit_notes: list[tuple[str, int]] = []
    for pos, cents in zip(p.positions, p.cents, strict=True):
        item = str(book.item_id[pos])
        if item.startswith(CREDIT_NOTE_PREFIX):
            credit_notes.append((item.removeprefix(CREDIT_NOTE_PREFIX), -cents))
        else:
            cash[item] = cash.get(item, 0) + cents
    for note_id, credit in credit_notes:
        # the credit note is consumed against the largest invoice this payment settles
        target = max(cash, key=lambda k: cash[k])
        note = session.get(CreditNote, note_id)
        before = row_dict(note)
        note.invoice_id = target  # type: ignore[union-attr]
        cash[target] -= credit
        record(
            session,
            actor=actor,
            action="cashapp.credit_note_linked",
            entity="credit_notes",
            entity_id=note_id,
            before=before,
            after=row_dict(note),
        )
    currency_of = {str(book.item_id[pos]): str(book.currency[pos]) for pos in p.positions}
    made = 0
    for invoice_id, cents in cash.items():
        if cents <= 0:
            continue
        # in the invoice's currency: a line paid in another one was converted (rate in the evidence)
        alloc = Allocation(
            allocation_id=f"{payment.payment_id}:{invoice_id}"[:160],
            payment_id=payment.payment_id,
            invoice_id=invoice_id,
            amount=money(cents),
            currency=currency_of[invoice_id],
            applied_at=payment.payment_date,
            source="auto",
            confidence=p.confidence,
            rule=p.rule,
        )
        session.add(alloc)
        record(
            session,
            actor=actor,
            action="cashapp.auto_allocation",
            entity="allocations",
            entity_id=alloc.allocation_id,
            after={**(row_dict(alloc) or {}), "evidence": p.evidence},
        )
        made += 1
    payment.customer_id = p.customer_id
    write_offs = _write_off_short(session, p, book, payment, actor=actor) if write_off_short else 0
    return {"allocations": made, "write_offs": write_offs}


def _write_off_short(session: Session, p: Proposal, book: OpenBook, payment: Payment, *, actor: str) -> int:
    """A payment that settled its items within tolerance leaves their residue written off, dated, in
    the invoice's currency: a bank fee, a discount taken, or an FX difference (rule ``*_fx``) is not
    the customer's debt. An FX gain (the converted line above the invoice) stays on the payment as
    unallocated cash, like any overpayment."""
    if "partial" in p.rule:
        return 0
    made = 0
    for pos, residue in zip(p.positions, p.residues, strict=True):
        item = str(book.item_id[pos])
        if residue <= 0 or item.startswith(CREDIT_NOTE_PREFIX):
            continue
        wo = WriteOff(
            write_off_id="WO-" + hashlib.sha256(f"{payment.payment_id}|{item}".encode()).hexdigest()[:28],
            invoice_id=item,
            date=payment.payment_date,
            amount=money(residue),
            currency=str(book.currency[pos]),
            status="approved",
            requested_by=actor,
            approved_by="cashapp-policy",
            recovery_status="none",
        )
        session.add(wo)
        record(
            session,
            actor=actor,
            action="cashapp.write_off_difference",
            entity="write_offs",
            entity_id=wo.write_off_id,
            after={
                **(row_dict(wo) or {}),
                "rule": p.rule,
                **({"fx": p.evidence["fx"]} if "fx" in p.evidence else {}),
            },
        )
        made += 1
    return made
