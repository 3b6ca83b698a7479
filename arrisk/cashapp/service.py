"""Cash-application services for the CLI and the API (plain Python, no web framework).

``import_statement`` parses first (a malformed file is refused before anything is written), then
matches and posts everything in ONE transaction: a failure or a killed process leaves the ledger as
it was. Lines already posted (same ``bank_line_id``) are skipped, so a second import posts nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError

from arrisk.cashapp import ledger_io
from arrisk.cashapp.balance import payment_amount_of, unallocated
from arrisk.cashapp.policy import CashAppPolicy, load_policy
from arrisk.cashapp.posting import post_line
from arrisk.cashapp.stateless import match_statement
from arrisk.cashapp.statement import Statement, StatementLine, parse_statement
from arrisk.cashapp.tables import BankStatement, CashAppException
from arrisk.errors import ConflictError, NotFoundError, ValidationError
from arrisk.settings import get_settings
from arrisk.store.audit import record, record_row, row_dict
from arrisk.store.db import session_scope
from arrisk.store.tables import Allocation, Invoice, Payment


@dataclass
class ImportResult:
    statement_id: int | None
    format: str
    lines: int
    credits: int
    already_imported: int
    auto: int = 0
    suggested: int = 0
    unapplied: int = 0
    payments: int = 0
    allocations: int = 0
    exceptions: int = 0
    write_offs: int = 0
    statuses: dict[str, str] = field(default_factory=dict)  # line_id -> auto | suggested | unapplied

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def bank_line_id(statement: Statement, line: StatementLine, sha: str) -> str:
    """The ledger's unique key of a line: the account and the bank's own reference (or the file's
    digest and the position, when the bank gave no reference)."""
    scope = statement.account or statement.format
    ref = line.line_id if not line.line_id.startswith("#") else f"{sha[:16]}{line.line_id}"
    return f"{scope}:{ref}"[:128]


def import_statement(
    engine: Engine, content: bytes, filename: str, *, actor: str, policy: CashAppPolicy | None = None
) -> ImportResult:
    """Import one statement file: payments, automatic allocations, exceptions, audit, one transaction."""
    policy = policy or load_policy()
    statement = parse_statement(content, source=filename, csv_columns=policy.csv)
    sha = hashlib.sha256(content).hexdigest()
    credits = statement.credits
    keys = {line.line_id: bank_line_id(statement, line, sha) for line in credits}
    if len(set(keys.values())) != len(credits):
        raise ValidationError(
            f"{filename}: two credit lines share one bank reference; cannot import idempotently"
        )
    try:
        with session_scope(engine) as session:
            return _import(session, statement, keys, sha=sha, filename=filename, actor=actor, policy=policy)
    except IntegrityError as err:
        raise ConflictError(
            f"{filename}: imported concurrently by someone else, nothing posted ({err.orig})"
        ) from None


def _import(session, statement, keys, *, sha, filename, actor, policy) -> ImportResult:  # type: ignore[no-untyped-def]
    known = set(
        session.scalars(select(Payment.bank_line_id).where(Payment.bank_line_id.in_(list(keys.values()))))
    )
    todo = [line for line in statement.credits if keys[line.line_id] not in known]
    result = ImportResult(None, statement.format, len(statement.lines), len(statement.credits), len(known))
    existing = session.scalar(select(BankStatement).where(BankStatement.sha256 == sha))
    result.statement_id = existing.statement_id if existing else None
    if not todo:
        return result
    sub = Statement(statement.format, statement.account, statement.statement_id, todo)
    matches, book = match_statement(
        sub,
        ledger_io.open_items(session),
        ledger_io.customers(session),
        policy=policy,
        accounts=ledger_io.learned_accounts(session),
        rule_stats=ledger_io.rule_stats(session),
        fx_rates=ledger_io.fx_rates(session),
        base_currency=get_settings().base_currency,
    )
    row = existing or BankStatement(
        sha256=sha,
        filename=filename[:255],
        format=statement.format,
        account=statement.account,
        bank_statement_id=statement.statement_id,
        actor=actor,
        counts={},
    )
    session.add(row)
    session.flush()
    result.statement_id = row.statement_id
    for match in matches:
        added = post_line(
            session,
            match,
            book,
            bank_line_id=keys[match.line.line_id],
            statement_id=row.statement_id,
            actor=actor,
            write_off_short=policy.write_off_short_payments,
        )
        for name, n in added.items():
            setattr(result, name, getattr(result, name) + n)
        setattr(result, match.status.value, getattr(result, match.status.value) + 1)
        result.statuses[match.line.line_id] = match.status.value
    row.counts = {k: v for k, v in result.as_dict().items() if isinstance(v, int)}
    record(
        session,
        actor=actor,
        action="cashapp.import_statement",
        entity="cashapp_statements",
        entity_id=str(row.statement_id),
        after={"filename": filename, **row.counts},
    )
    return result


def list_exceptions(
    engine: Engine, *, status: str = "open", limit: int = 100, offset: int = 0
) -> dict[str, Any]:
    """The exceptions queue, oldest first: each with its payment and ranked suggestions."""
    with session_scope(engine) as session:
        query = select(CashAppException, Payment).join(
            Payment, Payment.payment_id == CashAppException.payment_id
        )
        if status != "all":
            query = query.where(CashAppException.status == status)
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.execute(
            query.order_by(CashAppException.exception_id).limit(limit).offset(offset)
        ).all()
        items = [
            {
                **(row_dict(exc) or {}),
                "payment_date": pay.payment_date.isoformat(),
                "reference": pay.reference,
                "payer_name": pay.payer_name,
                "bank_line_id": pay.bank_line_id,
            }
            for exc, pay in rows
        ]
    return {"items": items, "total": int(total or 0), "limit": limit, "offset": offset}


def resolve_exception(
    engine: Engine,
    exception_id: int,
    *,
    invoice_allocations: dict[str, Decimal] | list[tuple[str, Decimal]],
    actor: str,
) -> dict[str, Any]:
    """Apply a person's decision: manual allocations (never touched by automation), queue item closed.

    Each amount is in its invoice's currency; for an invoice in another currency than the payment it
    is converted back at the payment date's rate to check it against what is left of the payment."""
    pairs = (
        list(invoice_allocations.items())
        if isinstance(invoice_allocations, dict)
        else list(invoice_allocations)
    )
    with session_scope(engine) as session:
        exc = session.get(CashAppException, exception_id)
        if exc is None:
            raise NotFoundError(f"cash-application exception {exception_id} does not exist")
        if exc.status != "open":
            raise ConflictError(f"cash-application exception {exception_id} is already {exc.status}")
        payment = session.get(Payment, exc.payment_id)
        if payment is None:
            raise NotFoundError(f"payment {exc.payment_id} of exception {exception_id} does not exist")
        left = unallocated(session, payment)
        in_payment = [payment_amount_of(session, payment, iid, Decimal(str(a))) for iid, a in pairs]
        total = sum((a for a, _ in in_payment), Decimal(0))
        # a cent of slack when converting back from another currency: rounding, not new money
        slack = Decimal("0.01") if any(converted for _, converted in in_payment) else Decimal(0)
        if total > left + slack:
            raise ValidationError(
                f"exception {exception_id}: allocations total {total} {payment.currency} exceed the "
                f"unallocated {left} {payment.currency}"
            )
        open_now = ledger_io.open_items(session).set_index("invoice_id")["open_amount"]
        created = []
        for invoice_id, raw in pairs:
            created.append(
                _manual_allocation(session, payment, invoice_id, Decimal(str(raw)), open_now, actor=actor)
            )
        before = row_dict(exc)
        exc.status, exc.resolved_by, exc.resolved_at = "resolved", actor, dt.datetime.now(dt.UTC)
        record_row(session, exc, actor=actor, action="cashapp.resolve_exception", before=before)
        return {"exception_id": exception_id, "status": "resolved", "allocation_ids": created}


def _manual_allocation(session, payment, invoice_id, amount, open_now, *, actor) -> str:  # type: ignore[no-untyped-def]
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        raise NotFoundError(f"invoice {invoice_id} does not exist")
    if amount <= 0:
        raise ValidationError(f"invoice {invoice_id}: allocation amount {amount} must be positive")
    open_amount = Decimal(str(open_now.get(invoice_id, 0))).quantize(Decimal("0.01"))
    if amount > open_amount:
        raise ValidationError(
            f"invoice {invoice_id}: allocation {amount} exceeds its open amount {open_amount}"
        )

    seq = session.scalar(select(func.count()).where(Allocation.payment_id == payment.payment_id))
    alloc = Allocation(
        allocation_id=f"{payment.payment_id}:{invoice_id}:m{seq}"[:160],
        payment_id=payment.payment_id,
        invoice_id=invoice_id,
        amount=amount,
        currency=invoice.currency,
        applied_at=dt.date.today(),
        source="manual",
        rule="manual",
    )
    session.add(alloc)
    payment.customer_id = payment.customer_id or invoice.customer_id
    record_row(session, alloc, actor=actor, action="cashapp.manual_allocation")
    return alloc.allocation_id


def reverse_allocation(engine: Engine, allocation_id: str, *, actor: str) -> dict[str, Any]:
    """Reverse an automatic allocation (dated, row kept) and put its payment back in the queue."""
    with session_scope(engine) as session:
        alloc = session.get(Allocation, allocation_id)
        if alloc is None:
            raise NotFoundError(f"allocation {allocation_id} does not exist")
        if alloc.source != "auto":
            raise ConflictError(
                f"allocation {allocation_id} is {alloc.source}: only automatic ones are reversed here"
            )
        if alloc.reversed_at is not None:
            raise ConflictError(f"allocation {allocation_id} was already reversed on {alloc.reversed_at}")
        before = row_dict(alloc)
        alloc.reversed_at, alloc.reversed_by = dt.date.today(), actor
        record(
            session,
            actor=actor,
            action="cashapp.reverse_allocation",
            entity="allocations",
            entity_id=allocation_id,
            before=before,
            after=row_dict(alloc),
        )
        payment = session.get(Payment, alloc.payment_id)
        if payment is None:
            raise NotFoundError(f"payment {alloc.payment_id} of allocation {allocation_id} does not exist")
        exc = CashAppException(
            payment_id=payment.payment_id,
            kind="reversed",
            status="open",
            customer_id=payment.customer_id,
            amount=unallocated(session, payment),
            currency=payment.currency,
            suggestions=[
                {
                    "allocations": [{"invoice_id": alloc.invoice_id, "amount": str(alloc.amount)}],
                    "rule": alloc.rule,
                    "confidence": alloc.confidence,
                    "reversed": True,
                }
            ],
        )
        session.add(exc)
        session.flush()
        return {
            "allocation_id": allocation_id,
            "reversed_at": alloc.reversed_at.isoformat(),
            "exception_id": exc.exception_id,
        }
