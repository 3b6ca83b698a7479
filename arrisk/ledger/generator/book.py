"""A whole synthetic book, built chunk by chunk of customers so a million customers fit in memory.

Each chunk has its own random stream (seed, chunk number), so a seed gives identical files whether
the book is written in one go or collected in memory; ids run on across chunks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa

from arrisk.errors import ValidationError
from arrisk.ledger.generator import remittance as rem
from arrisk.ledger.generator import strings as s
from arrisk.ledger.generator.catalog import BEHAVIOUR_NAMES, CURRENCIES
from arrisk.ledger.generator.customers import CustomerDraw, customers_table, draw_customers
from arrisk.ledger.generator.disputes import (
    credit_notes_table,
    disputes_table,
    draw_disputes,
    settle_disputed,
)
from arrisk.ledger.generator.fx import fx_rates_table
from arrisk.ledger.generator.invoices import (
    INVOICE_NUMBER_BASE,
    invoices_table,
    issue_invoices,
    planned_pay_day,
)
from arrisk.ledger.generator.payments import PaymentDraw, group_payments, instalments, invoice_totals
from arrisk.ledger.generator.recovery import (
    Settlement,
    draw_promises,
    draw_write_offs,
    promises_table,
    write_offs_table,
)
from arrisk.ledger.generator.sinks import FORMATS, BookSink
from arrisk.ledger.generator.timeline import NEVER, Span

CHUNK_CUSTOMERS = 100_000
# ``invoice_rate`` scales every customer's invoices per month (1 = the catalogue's volumes); the open
# backlog grows with it: about 2 open invoices per customer at 1, about 10 at 5 (measured, 12 months).
MAX_INVOICE_RATE = 50.0
COUNTED = ("customers", "invoices", "payments", "disputes", "credit_notes", "promises", "write_offs")


@dataclass
class Chunk:
    tables: dict[str, pa.Table]
    truth: pa.Table  # hidden behaviour per customer; never written with the book


def check_request(
    *,
    n_customers: int,
    months: int,
    start: date,
    fmt: str = "parquet",
    base_currency: str = "EUR",
    invoice_rate: float = 1.0,
) -> Span:
    """The book's span; raises ValidationError naming the first argument that cannot work."""
    if fmt not in FORMATS:
        raise ValidationError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    if base_currency not in CURRENCIES:
        raise ValidationError(f"base_currency {base_currency!r} is not one of {', '.join(CURRENCIES)}")
    if n_customers < 1:
        raise ValidationError(f"n_customers {n_customers} must be at least 1")
    if not 1 <= months <= 120:
        raise ValidationError(f"months {months} must be between 1 and 120")
    if not 0 < invoice_rate <= MAX_INVOICE_RATE:
        raise ValidationError(f"invoice_rate {invoice_rate} must be above 0 and at most {MAX_INVOICE_RATE:g}")
    return Span(start=start, months=months)


def iter_chunks(
    *,
    n_customers: int,
    months: int,
    seed: int,
    start: date,
    chunk_customers: int = CHUNK_CUSTOMERS,
    invoice_rate: float = 1.0,
) -> Iterator[Chunk]:
    """The book's chunks in order; ordinals (ids) continue from one chunk to the next."""
    span = check_request(n_customers=n_customers, months=months, start=start, invoice_rate=invoice_rate)
    first = dict.fromkeys(COUNTED, 1)
    for number, offset in enumerate(range(0, n_customers, chunk_customers)):
        rng = np.random.default_rng([seed, number + 1])
        chunk = build_chunk(
            rng, min(chunk_customers, n_customers - offset), span, first, invoice_rate=invoice_rate
        )
        for name in COUNTED:
            first[name] += len(chunk.tables[name])
        yield chunk


def build_chunk(
    rng: np.random.Generator, n: int, span: Span, first: dict[str, int], *, invoice_rate: float = 1.0
) -> Chunk:
    cust = draw_customers(rng, n, span, invoice_rate=invoice_rate)
    customers = customers_table(cust, span, first_ordinal=first["customers"])
    inv = issue_invoices(rng, cust, span)
    invoices = invoices_table(
        inv, customers["customer_id"], customers["currency"], span, first=first["invoices"]
    )
    refs = {
        "invoice_id": invoices["invoice_id"].combine_chunks(),
        "invoice_customer": invoices["customer_id"].combine_chunks(),
        "invoice_currency": invoices["currency"].combine_chunks(),
    }
    planned = planned_pay_day(rng, cust, inv, span)
    disputes = draw_disputes(rng, cust, inv, planned, span)
    pay_day, payable = settle_disputed(rng, disputes, inv, planned)
    disputed = np.zeros(inv.n, dtype=bool)
    disputed[disputes.inv] = True
    events = instalments(rng, cust, inv, pay_day=pay_day, payable=payable, disputed=disputed, span=span)
    pay = group_payments(inv, *events)
    paid, last_pay_day = invoice_totals(inv, pay)
    credit_day = np.full(inv.n, -1, dtype=np.int32)
    credit_day[disputes.inv[disputes.credited]] = disputes.resolved[disputes.credited]
    open_dispute = np.zeros(inv.n, dtype=bool)
    open_dispute[disputes.inv[disputes.is_open]] = True
    st = Settlement(payable, paid, last_pay_day, credit_day, open_dispute)
    payments, allocations = _payment_tables(rng, cust, pay, customers, refs, span, first=first)
    tables = {
        "customers": customers,
        "invoices": invoices,
        "payments": payments,
        "allocations": allocations,
        "disputes": disputes_table(disputes, refs["invoice_id"], span, first=first["disputes"]),
        "credit_notes": credit_notes_table(disputes, refs, span, first=first["credit_notes"]),
        "promises": promises_table(
            draw_promises(rng, cust, inv, st, pay, span), refs, span, first=first["promises"]
        ),
        "write_offs": write_offs_table(
            draw_write_offs(rng, cust, inv, st, span), refs, span, first=first["write_offs"]
        ),
    }
    return Chunk(tables=tables, truth=_truth(cust, customers, span))


def _payment_tables(
    rng: np.random.Generator,
    cust: CustomerDraw,
    pay: PaymentDraw,
    customers: pa.Table,
    refs: dict[str, pa.Array],
    span: Span,
    *,
    first: dict[str, int],
) -> tuple[pa.Table, pa.Table]:
    who = pa.array(pay.pay_cust.astype(np.int64))
    payment_ids = s.ids("P", np.arange(first["payments"], first["payments"] + pay.n), 9)
    numbers = INVOICE_NUMBER_BASE + first["invoices"] + pay.alloc_inv.astype(np.int64)
    language = cust.country[pay.pay_cust].astype(np.int64)
    payments = pa.table(
        {
            "payment_id": payment_ids,
            "payment_date": span.timestamps(pay.pay_day),
            "amount": s.money(pay.pay_cents),
            "currency": customers["currency"].take(who),
            "customer_id": customers["customer_id"].take(who),
            "method": rem.methods(rng, cust, pay.pay_cust),
            "reference": rem.references(
                rng, numbers=numbers, first_alloc=pay.pay_first_alloc, language=language
            ),
            "payer_name": rem.payer_names(rng, cust, pay.pay_cust),
            "payer_account": rem.payer_accounts(rng, cust, pay.pay_cust),
        }
    )
    allocations = pa.table(
        {
            "payment_id": payment_ids.take(pa.array(pay.alloc_payment)),
            "invoice_id": refs["invoice_id"].take(pa.array(pay.alloc_inv.astype(np.int64))),
            "amount": s.money(pay.alloc_cents),
            "applied_at": span.timestamps(pay.pay_day[pay.alloc_payment]),
        }
    )
    return payments, allocations


def _truth(cust: CustomerDraw, customers: pa.Table, span: Span) -> pa.Table:
    defaulted = cust.default_day < NEVER
    return pa.table(
        {
            "customer_id": customers["customer_id"],
            "behaviour": s.pick(BEHAVIOUR_NAMES, cust.behaviour),
            "default_date": span.timestamps(np.where(defaulted, cust.default_day, 0), valid=defaulted),
            "batch_payer": pa.array(cust.batch_kind > 0),
        }
    )


def write_book(
    folder: Path,
    *,
    n_customers: int,
    months: int,
    seed: int,
    start: date = date(2025, 1, 1),
    base_currency: str = "EUR",
    fmt: str = "parquet",
    chunk_customers: int = CHUNK_CUSTOMERS,
    on_chunk: Callable[[int], None] | None = None,
    invoice_rate: float = 1.0,
) -> dict[str, int]:
    """Stream a book to ``folder`` (one file per table) chunk by chunk; returns rows written per table.

    ``on_chunk`` is told how many customers each finished chunk held (for progress bars).
    """
    span = check_request(
        n_customers=n_customers,
        months=months,
        start=start,
        fmt=fmt,
        base_currency=base_currency,
        invoice_rate=invoice_rate,
    )
    fx = fx_rates_table(seed, span, base_currency=base_currency)
    sink = BookSink(folder, fmt)
    try:
        sink.write({"fx_rates": fx})
        chunks = iter_chunks(
            n_customers=n_customers,
            months=months,
            seed=seed,
            start=start,
            chunk_customers=chunk_customers,
            invoice_rate=invoice_rate,
        )
        for chunk in chunks:
            sink.write(chunk.tables)
            if on_chunk is not None:
                on_chunk(len(chunk.tables["customers"]))
    finally:
        counts = sink.close()
    return counts
