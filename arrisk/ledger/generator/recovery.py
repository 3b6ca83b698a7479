"""Collection outcomes: promises to pay (kept and broken) and write-offs of defaulted invoices."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from arrisk.ledger.generator import catalog as cat
from arrisk.ledger.generator import strings as s
from arrisk.ledger.generator.catalog import Behaviour as B
from arrisk.ledger.generator.customers import CustomerDraw
from arrisk.ledger.generator.invoices import InvoiceDraw
from arrisk.ledger.generator.payments import PaymentDraw
from arrisk.ledger.generator.timeline import NEVER, Span

WRITE_OFF_RATE = 0.75


@dataclass
class Settlement:
    """Per invoice: what is owed after credit notes, what was paid, and when things last happened."""

    payable: np.ndarray
    paid: np.ndarray
    last_pay_day: np.ndarray  # -1 when nothing was paid
    credit_day: np.ndarray  # -1 when no credit note
    open_dispute: np.ndarray


def draw_write_offs(
    rng: np.random.Generator, cust: CustomerDraw, inv: InvoiceDraw, st: Settlement, span: Span
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(invoice row, day, cents): a defaulter's unpaid balance is written off 4 to 7 months past due."""
    remaining = st.payable - st.paid
    defaulter = cust.behaviour[inv.cust] == B.DEFAULTER
    rows = np.flatnonzero(defaulter & (remaining > 0) & ~st.open_dispute)
    after = np.maximum(st.last_pay_day[rows], st.credit_day[rows]) + 1
    day = np.maximum(inv.due[rows] + rng.integers(120, 200, len(rows)), after).astype(np.int32)
    keep = (day < span.days) & (rng.random(len(rows)) < WRITE_OFF_RATE)
    return rows[keep], day[keep], remaining[rows[keep]]


def draw_promises(
    rng: np.random.Generator,
    cust: CustomerDraw,
    inv: InvoiceDraw,
    st: Settlement,
    pay: PaymentDraw,
    span: Span,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(invoice row, created day, promised day, cents) of promises made on late invoices.

    A kept promise names a date on or after the real payment; a broken one a date well before it
    (or before the end of the book for an invoice never paid).
    """
    n = inv.n
    fully_paid = (st.paid == st.payable) & (st.payable > 0)
    late_paid = fully_paid & (st.last_pay_day - inv.due > 10)
    unpaid = (st.paid < st.payable) & (inv.due < span.days - 15) & ~st.open_dispute
    asked = np.where(late_paid, rng.random(n) < 0.3, unpaid & (rng.random(n) < 0.4))
    kept = late_paid & (rng.random(n) < cat.PROMISE_KEPT_RATE[cust.behaviour[inv.cust]])
    settle = st.last_pay_day
    created = np.where(
        kept,
        np.maximum(inv.due + 1, settle - rng.integers(3, 15, n)),
        inv.due + np.where(late_paid, rng.integers(3, 16, n), rng.integers(5, 41, n)),
    )
    promised = np.where(kept, settle + rng.integers(0, 4, n), created + rng.integers(3, 11, n))
    valid = asked & (promised < span.days) & (created < promised) & (created >= inv.issue)
    valid &= kept | ~late_paid | (promised + 3 < settle)
    created_for = np.where(valid, created, NEVER)
    before = pay.pay_day[pay.alloc_payment] < created_for[pay.alloc_inv]
    paid_before = np.bincount(pay.alloc_inv[before], weights=pay.alloc_cents[before], minlength=n)
    cents = st.payable - paid_before.round().astype(np.int64)
    rows = np.flatnonzero(valid & (cents > 0))
    return rows, created[rows].astype(np.int32), promised[rows].astype(np.int32), cents[rows]


def promises_table(
    drawn: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    refs: dict[str, pa.Array],
    span: Span,
    *,
    first: int,
) -> pa.Table:
    rows, created, promised, cents = drawn
    take = pa.array(rows.astype(np.int64))
    return pa.table(
        {
            "promise_id": s.ids("PR", np.arange(first, first + len(rows)), 8),
            "customer_id": refs["invoice_customer"].take(take),
            "promised_date": span.timestamps(promised),
            "amount": s.money(cents),
            "created_at": span.timestamps(created),
            "invoice_ids": refs["invoice_id"].take(take),
        }
    )


def write_offs_table(
    drawn: tuple[np.ndarray, np.ndarray, np.ndarray], refs: dict[str, pa.Array], span: Span, *, first: int
) -> pa.Table:
    rows, day, cents = drawn
    return pa.table(
        {
            "invoice_id": refs["invoice_id"].take(pa.array(rows.astype(np.int64))),
            "date": span.timestamps(day),
            "amount": s.money(cents),
            "write_off_id": s.ids("W", np.arange(first, first + len(rows)), 8),
        }
    )
