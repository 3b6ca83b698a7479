"""Payment events: instalments per invoice, grouped into one payment per customer and day."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arrisk.ledger.generator import catalog as cat
from arrisk.ledger.generator.customers import CustomerDraw
from arrisk.ledger.generator.invoices import InvoiceDraw
from arrisk.ledger.generator.timeline import Span


@dataclass
class PaymentDraw:
    """Allocations (one per invoice and payment) sorted by payment, and the payments they make up."""

    alloc_inv: np.ndarray
    alloc_cents: np.ndarray
    alloc_payment: np.ndarray
    pay_cust: np.ndarray
    pay_day: np.ndarray
    pay_cents: np.ndarray
    pay_first_alloc: np.ndarray

    @property
    def n(self) -> int:
        return len(self.pay_cust)


def instalments(
    rng: np.random.Generator,
    cust: CustomerDraw,
    inv: InvoiceDraw,
    *,
    pay_day: np.ndarray,
    payable: np.ndarray,
    disputed: np.ndarray,
    span: Span,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(invoice row, day, cents) of every payment event in the book; some invoices are paid in two parts."""
    behaviour = cust.behaviour[inv.cust]
    split = (rng.random(inv.n) < cat.PARTIAL_RATE[behaviour]) & ~disputed & (payable >= 200)
    first = np.where(split, np.round(payable * rng.uniform(0.25, 0.75, inv.n)), payable).astype(np.int64)
    rows = np.flatnonzero(split)
    second_day = pay_day[rows] + rng.integers(14, 60, len(rows)).astype(np.int32)
    inv_row = np.concatenate([np.arange(inv.n), rows])
    day = np.concatenate([pay_day, second_day])
    cents = np.concatenate([first, payable[rows] - first[rows]])
    live = (day < span.days) & (cents > 0)
    inv_row, day, cents = inv_row[live], day[live], cents[live]
    day = _payment_run(cust, inv.cust[inv_row], day, span)
    # a defaulter pays nothing from its default day on
    live = (day < span.days) & (day < cust.default_day[inv.cust[inv_row]])
    return inv_row[live], day[live], cents[live]


def _payment_run(cust: CustomerDraw, who: np.ndarray, day: np.ndarray, span: Span) -> np.ndarray:
    """Batch payers wait for their weekly or monthly payment run, so one payment settles several invoices."""
    kind = cust.batch_kind[who]
    out = day.copy()
    weekly = kind == 1
    run_weekday = cust.run_day[who[weekly]] % 5
    out[weekly] += (run_weekday - span.weekday(day[weekly])) % 7
    monthly = kind == 2
    out[monthly] = span.next_month_day(day[monthly], cust.run_day[who[monthly]])
    return out


def group_payments(inv: InvoiceDraw, inv_row: np.ndarray, day: np.ndarray, cents: np.ndarray) -> PaymentDraw:
    """One payment per customer and day, ordered by day; its amount is the sum of what it settles.

    Two instalments of one invoice that land in the same payment run become one allocation.
    """
    modulus = int(inv.cust.max(initial=0)) + 1
    key = day.astype(np.int64) * modulus + inv.cust[inv_row]
    order = np.lexsort((inv_row, key))
    key, inv_row, cents = key[order], inv_row[order], cents[order]
    pair = _starts((key[1:] != key[:-1]) | (inv_row[1:] != inv_row[:-1]), len(key))
    key, inv_row = key[pair], inv_row[pair]
    cents = np.add.reduceat(cents, pair) if len(pair) else cents[:0]
    starts = _starts(key[1:] != key[:-1], len(key))
    payment = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(key)]))
    pay_key = key[starts]
    return PaymentDraw(
        alloc_inv=inv_row,
        alloc_cents=cents,
        alloc_payment=payment,
        pay_cust=(pay_key % modulus).astype(np.int32),
        pay_day=(pay_key // modulus).astype(np.int32),
        pay_cents=np.add.reduceat(cents, starts) if len(starts) else cents[:0],
        pay_first_alloc=starts,
    )


def _starts(changes: np.ndarray, size: int) -> np.ndarray:
    return np.flatnonzero(np.r_[True, changes]) if size else np.zeros(0, np.int64)


def invoice_totals(inv: InvoiceDraw, pay: PaymentDraw) -> tuple[np.ndarray, np.ndarray]:
    """(cents paid, day of the last payment or -1) per invoice."""
    paid = np.bincount(pay.alloc_inv, weights=pay.alloc_cents, minlength=inv.n).round().astype(np.int64)
    last = np.full(inv.n, -1, dtype=np.int32)
    np.maximum.at(last, pay.alloc_inv, pay.pay_day[pay.alloc_payment])
    return paid, last
