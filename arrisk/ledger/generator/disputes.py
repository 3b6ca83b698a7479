"""Disputes on invoices and the credit notes that settle some of them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from arrisk.ledger.generator import catalog as cat
from arrisk.ledger.generator import strings as s
from arrisk.ledger.generator.customers import CustomerDraw
from arrisk.ledger.generator.invoices import InvoiceDraw
from arrisk.ledger.generator.timeline import NEVER, Span

CREDIT_NOTE = 0


@dataclass
class DisputeDraw:
    inv: np.ndarray  # invoice row of the chunk
    opened: np.ndarray
    resolved: np.ndarray  # NEVER while still open at the end of the book
    outcome: np.ndarray  # index into DISPUTE_OUTCOMES, -1 while open
    reason: np.ndarray
    cents: np.ndarray

    @property
    def n(self) -> int:
        return len(self.inv)

    @property
    def is_open(self) -> np.ndarray:
        return self.outcome < 0

    @property
    def credited(self) -> np.ndarray:
        return self.outcome == CREDIT_NOTE


def draw_disputes(
    rng: np.random.Generator, cust: CustomerDraw, inv: InvoiceDraw, pay_day: np.ndarray, span: Span
) -> DisputeDraw:
    """A dispute is opened between issue and the planned payment (a customer disputes instead of paying)."""
    rate = cat.DISPUTE_RATE[cust.behaviour[inv.cust]]
    idx = np.flatnonzero(rng.random(inv.n) < rate)
    latest = np.minimum(pay_day[idx], inv.due[idx] + 10)
    window = np.maximum(1, latest - inv.issue[idx])
    opened = inv.issue[idx] + 1 + (rng.random(len(idx)) * window).astype(np.int32)
    keep = opened < span.days
    idx, opened = idx[keep], opened[keep]
    n = len(idx)
    duration = np.clip(rng.lognormal(np.log(25), 0.6, n), 3, 240).astype(np.int32)
    resolved = opened + duration
    outcome = rng.choice(3, size=n, p=cat.DISPUTE_OUTCOME_MIX).astype(np.int8)
    still_open = resolved >= span.days
    outcome[still_open] = -1
    resolved[still_open] = NEVER
    share = np.where(rng.random(n) < 0.5, 1.0, rng.uniform(0.1, 0.9, n))
    cents = np.maximum(1, np.round(inv.cents[idx] * share)).astype(np.int64)
    return DisputeDraw(
        inv=idx,
        opened=opened.astype(np.int32),
        resolved=resolved.astype(np.int32),
        outcome=outcome,
        reason=rng.integers(0, len(cat.DISPUTE_REASONS), n),
        cents=cents,
    )


def settle_disputed(
    rng: np.random.Generator, disputes: DisputeDraw, inv: InvoiceDraw, pay_day: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(pay day, amount still to pay) per invoice once disputes are taken into account.

    An open dispute holds the payment; a resolved one releases it a few days later, less any credit note.
    """
    payable = inv.cents.copy()
    day = pay_day.copy()
    credited = disputes.credited
    payable[disputes.inv[credited]] -= disputes.cents[credited]
    released = disputes.resolved + rng.integers(1, 15, disputes.n)
    day[disputes.inv] = np.where(disputes.is_open, NEVER, np.maximum(day[disputes.inv], released))
    return day, payable


def disputes_table(disputes: DisputeDraw, invoice_ids: pa.Array, span: Span, *, first: int) -> pa.Table:
    open_ = disputes.is_open
    outcome = s.with_nulls(s.pick(cat.DISPUTE_OUTCOMES, np.maximum(disputes.outcome, 0)), open_)
    return pa.table(
        {
            "dispute_id": s.ids("D", np.arange(first, first + disputes.n), 8),
            "invoice_id": invoice_ids.take(pa.array(disputes.inv.astype(np.int64))),
            "opened_at": span.timestamps(disputes.opened),
            "reason": s.pick(cat.DISPUTE_REASONS, disputes.reason),
            "resolved_at": span.timestamps(np.where(open_, 0, disputes.resolved), valid=~open_),
            "outcome": outcome,
            "amount": s.money(disputes.cents),
        }
    )


def credit_notes_table(
    disputes: DisputeDraw, refs: dict[str, pa.Array], span: Span, *, first: int
) -> pa.Table:
    """One credit note per dispute resolved in the customer's favour, dated the day it was resolved."""
    rows = np.flatnonzero(disputes.credited)
    invoice_rows = pa.array(disputes.inv[rows].astype(np.int64))
    return pa.table(
        {
            "credit_note_id": s.ids("CN", np.arange(first, first + len(rows)), 8),
            "customer_id": refs["invoice_customer"].take(invoice_rows),
            "issue_date": span.timestamps(disputes.resolved[rows]),
            "amount": s.money(disputes.cents[rows]),
            "currency": refs["invoice_currency"].take(invoice_rows),
            "invoice_id": refs["invoice_id"].take(invoice_rows),
            "reason": s.concat("dispute: ", s.pick(cat.DISPUTE_REASONS, disputes.reason[rows])),
        }
    )
