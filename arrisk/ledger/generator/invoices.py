"""Invoices of one chunk and the day each would be paid if nothing (dispute, default) got in the way."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from arrisk.ledger.generator import strings as s
from arrisk.ledger.generator.catalog import Behaviour as B
from arrisk.ledger.generator.customers import CustomerDraw
from arrisk.ledger.generator.timeline import Span

INVOICE_SIGMA = 0.6
# invoice numbers start here so that a zero-padded number still shows leading zeros
INVOICE_NUMBER_BASE = 100_000


@dataclass
class InvoiceDraw:
    cust: np.ndarray
    issue: np.ndarray
    due: np.ndarray
    cents: np.ndarray

    @property
    def n(self) -> int:
        return len(self.cust)


def seasonal_swing(peak_month: np.ndarray, month: np.ndarray) -> np.ndarray:
    """+1 in the customer's peak month, -1 six months later."""
    return np.cos(2 * np.pi * (month - peak_month) / 12)


def issue_invoices(rng: np.random.Generator, cust: CustomerDraw, span: Span) -> InvoiceDraw:
    """Poisson invoice counts per customer and month, sorted by issue day (then customer)."""
    bounds = span.month_bounds
    month_of_year = span.calendar_month(bounds[:-1])
    rate = np.repeat(cust.invoices_per_month[:, None], span.months, axis=1)
    seasonal = cust.behaviour == B.SEASONAL
    rate[seasonal] *= 1 + 0.6 * seasonal_swing(cust.peak_month[seasonal, None], month_of_year[None, :])
    active = (bounds[None, 1:] > cust.created_day[:, None]) & (bounds[None, :-1] <= cust.stop_day[:, None])
    counts = rng.poisson(rate * active)
    cell = np.repeat(np.arange(counts.size), counts.ravel())
    who, month = cell // span.months, cell % span.months
    length = bounds[month + 1] - bounds[month]
    issue = (bounds[month] + (rng.random(len(cell)) * length).astype(np.int32)).astype(np.int32)
    keep = (issue >= cust.created_day[who]) & (issue <= cust.stop_day[who])
    # a defaulter's last big order shortly before it stops paying is what turns into the loss
    last_order = np.flatnonzero(cust.default_day < span.days)
    last_day = cust.default_day[last_order] - rng.integers(0, 21, len(last_order))
    fits = last_day >= np.maximum(cust.created_day[last_order], 0)
    who = np.r_[who[keep], last_order[fits]]
    issue = np.r_[issue[keep], last_day[fits]].astype(np.int32)
    order = np.lexsort((who, issue))
    who, issue = who[order].astype(np.int32), issue[order]
    cents = np.maximum(100, np.round(cust.median_cents[who] * rng.lognormal(0.0, INVOICE_SIGMA, len(who))))
    return InvoiceDraw(
        cust=who, issue=issue, due=(issue + cust.terms[who]).astype(np.int32), cents=cents.astype(np.int64)
    )


def planned_pay_day(rng: np.random.Generator, cust: CustomerDraw, inv: InvoiceDraw, span: Span) -> np.ndarray:
    """Due day plus days late, by behaviour; never before the issue day."""
    c = inv.cust
    behaviour = cust.behaviour[c]
    base, amp = cust.late_base[c], cust.late_amp[c]
    late = base.copy()
    seasonal = behaviour == B.SEASONAL
    # seasonal businesses pay late in their off-season, when cash is short
    month = span.calendar_month(inv.due[seasonal])
    late[seasonal] += amp[seasonal] * np.maximum(0.0, -seasonal_swing(cust.peak_month[c[seasonal]], month))
    worse = behaviour == B.DETERIORATING
    months_on = np.maximum(0, inv.issue[worse] - cust.onset_day[c[worse]]) / 30.4
    late[worse] += amp[worse] * months_on
    stressed = behaviour == B.DEFAULTER
    ramp = (inv.issue[stressed] - (cust.default_day[c[stressed]] - 120)) / 120
    late[stressed] += amp[stressed] * np.clip(ramp, 0.0, 1.0)
    late += cust.late_noise[c] * rng.standard_normal(inv.n)
    # everyone slips now and then: a lost invoice, a missing approval
    slip = rng.random(inv.n) < 0.03
    late[slip] += rng.exponential(30.0, int(slip.sum()))
    return np.maximum(inv.due + np.round(late).astype(np.int32), inv.issue).astype(np.int32)


def invoices_table(
    inv: InvoiceDraw, cust_ids: pa.Array, currency: pa.Array, span: Span, *, first: int
) -> pa.Table:
    ordinals = np.arange(first, first + inv.n)
    idx = pa.array(inv.cust.astype(np.int64))
    return pa.table(
        {
            "invoice_id": s.ids("I", ordinals, 9),
            "customer_id": cust_ids.take(idx),
            "invoice_number": s.concat("INV-", s.digits(INVOICE_NUMBER_BASE + ordinals, 8)),
            "issue_date": span.timestamps(inv.issue),
            "due_date": span.timestamps(inv.due),
            "amount": s.money(inv.cents),
            "currency": currency.take(idx),
        }
    )
