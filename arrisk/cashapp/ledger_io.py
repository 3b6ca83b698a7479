"""What the matcher needs from the store, read inside the caller's transaction.

Open amount of an invoice now = amount - allocations not reversed - credit notes against it -
approved write-offs. Credit notes against no invoice are open items with a negative amount.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from arrisk.store.tables import Allocation, CreditNote, Customer, FxRate, Invoice, Payment, WriteOff

CREDIT_NOTE_PREFIX = "credit_note:"


def _sums(session: Session, column, key, *where) -> dict[str, float]:  # type: ignore[no-untyped-def]
    rows = session.execute(select(key, func.sum(column)).where(*where).group_by(key)).all()
    return {str(k): float(v or 0) for k, v in rows if k is not None}


def open_items(session: Session) -> pd.DataFrame:
    """Open invoices (and unlinked credit notes, negative) as a frame for ``OpenBook``."""
    invoices = pd.DataFrame(
        session.execute(
            select(
                Invoice.invoice_id,
                Invoice.customer_id,
                Invoice.invoice_number,
                Invoice.issue_date,
                Invoice.due_date,
                Invoice.amount,
                Invoice.currency,
            )
        ).all(),
        columns=[
            "invoice_id",
            "customer_id",
            "invoice_number",
            "issue_date",
            "due_date",
            "amount",
            "currency",
        ],
    )
    paid = _sums(session, Allocation.amount, Allocation.invoice_id, Allocation.reversed_at.is_(None))
    credited = _sums(session, CreditNote.amount, CreditNote.invoice_id, CreditNote.invoice_id.is_not(None))
    written = _sums(session, WriteOff.amount, WriteOff.invoice_id, WriteOff.status == "approved")
    invoices["amount"] = invoices["amount"].astype("float64")
    ids = invoices["invoice_id"]
    invoices["open_amount"] = (
        invoices["amount"]
        - ids.map(paid).fillna(0)
        - ids.map(credited).fillna(0)
        - ids.map(written).fillna(0)
    ).round(2)
    notes = pd.DataFrame(
        session.execute(
            select(
                CreditNote.credit_note_id,
                CreditNote.customer_id,
                CreditNote.issue_date,
                CreditNote.amount,
                CreditNote.currency,
            ).where(CreditNote.invoice_id.is_(None))
        ).all(),
        columns=["credit_note_id", "customer_id", "issue_date", "amount", "currency"],
    )
    if len(notes):
        notes = notes.assign(
            invoice_id=CREDIT_NOTE_PREFIX + notes["credit_note_id"],
            invoice_number=notes["credit_note_id"],
            due_date=notes["issue_date"],
            amount=-notes["amount"].astype("float64"),
        )
        notes["open_amount"] = notes["amount"]
        invoices = pd.concat([invoices, notes[invoices.columns]], ignore_index=True)
    for col in ("issue_date", "due_date"):
        invoices[col] = pd.to_datetime(invoices[col])
    return invoices[invoices["open_amount"].abs() >= 0.005].reset_index(drop=True)


def fx_rates(session: Session) -> pd.DataFrame:
    """The ledger's exchange rates (units of base currency per unit, valid from rate_date on)."""
    rows = session.execute(select(FxRate.currency, FxRate.rate_date, FxRate.rate_to_base)).all()
    return pd.DataFrame(rows, columns=["currency", "rate_date", "rate_to_base"])


def customers(session: Session) -> pd.DataFrame:
    rows = session.execute(select(Customer.customer_id, Customer.name)).all()
    return pd.DataFrame(rows, columns=["customer_id", "name"])


def learned_accounts(session: Session) -> dict[str, str]:
    """Payer account -> the customer whose invoices its payments settled (the most often)."""
    from arrisk.cashapp.payers import normalise_account

    rows = session.execute(
        select(Payment.payer_account, Invoice.customer_id, func.count())
        .join(Allocation, Allocation.payment_id == Payment.payment_id)
        .join(Invoice, Invoice.invoice_id == Allocation.invoice_id)
        .where(Payment.payer_account.is_not(None), Allocation.reversed_at.is_(None))
        .group_by(Payment.payer_account, Invoice.customer_id)
    ).all()
    best: dict[str, tuple[int, str]] = {}
    for account, customer_id, n in rows:
        key = normalise_account(account or "")
        if key and n > best.get(key, (0, ""))[0]:
            best[key] = (int(n), str(customer_id))
    return {k: v[1] for k, v in best.items()}


def rule_stats(session: Session) -> dict[str, tuple[int, int]]:
    """Per rule: automatic allocations made and those never reversed (its measured precision)."""
    rows = session.execute(
        select(Allocation.rule, func.count(), func.count(Allocation.reversed_at))
        .where(Allocation.source == "auto", Allocation.rule.is_not(None))
        .group_by(Allocation.rule)
    ).all()
    return {str(rule): (int(n), int(n) - int(reversed_n)) for rule, n, reversed_n in rows}
