"""What is left of a payment, in its own currency, when allocations may be in invoices' currencies.

An allocation to an invoice in another currency is converted back at the rates in force on the
payment date, the ones the matcher used when it converted the payment.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from arrisk.cashapp import ledger_io
from arrisk.cashapp.fx import fx_table
from arrisk.errors import ValidationError
from arrisk.settings import get_settings
from arrisk.store.tables import Allocation, Invoice, Payment


def unallocated(session: Session, payment: Payment) -> Decimal:
    """What is left of a payment, in its currency: allocations to invoices in another currency are
    converted back at the rates in force on the payment date (those the matcher used)."""
    rows = session.execute(
        select(Allocation.currency, func.coalesce(func.sum(Allocation.amount), 0))
        .where(Allocation.payment_id == payment.payment_id, Allocation.reversed_at.is_(None))
        .group_by(Allocation.currency)
    ).all()
    left = Decimal(payment.amount)
    for currency, used in rows:
        if currency in (None, payment.currency):
            left -= Decimal(used)
        else:
            left -= in_payment_currency(session, payment, Decimal(used), currency)
    return max(left, Decimal(0)).quantize(Decimal("0.01"))


def in_payment_currency(session: Session, payment: Payment, amount: Decimal, currency: str) -> Decimal:
    """``amount`` of ``currency`` in the payment's currency at the payment date's rates."""
    table = fx_table(ledger_io.fx_rates(session), base_currency=get_settings().base_currency)
    cents = int((amount * 100).to_integral_value())
    conv = table and table.convert(
        cents, from_ccy=currency, to_ccy=payment.currency, day=payment.payment_date
    )
    if not conv:
        raise ValidationError(
            f"payment {payment.payment_id}: no exchange rate {currency}->{payment.currency} in force on "
            f"{payment.payment_date} to convert its {amount} {currency} allocation"
        )
    return Decimal(conv.converted) / 100


def payment_amount_of(
    session: Session, payment: Payment, invoice_id: str, amount: Decimal
) -> tuple[Decimal, bool]:
    """A manual allocation's amount (in its invoice's currency) in the payment's currency, and
    whether it was converted."""
    invoice = session.get(Invoice, invoice_id)
    if invoice is None or invoice.currency == payment.currency:
        return amount, False
    return in_payment_currency(session, payment, amount, invoice.currency), True
