"""Customers of one chunk: master data, and the hidden payment behaviour that drives every later event."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from arrisk.ledger.generator import catalog as cat
from arrisk.ledger.generator import strings as s
from arrisk.ledger.generator.catalog import Behaviour as B
from arrisk.ledger.generator.timeline import NEVER, Span


@dataclass
class CustomerDraw:
    """One array per attribute, one row per customer of the chunk."""

    behaviour: np.ndarray
    country: np.ndarray
    currency: np.ndarray
    segment: np.ndarray
    terms: np.ndarray
    invoices_per_month: np.ndarray
    median_cents: np.ndarray
    created_day: np.ndarray
    stop_day: np.ndarray  # defaulters are put on credit hold: no invoices after this day
    default_day: np.ndarray  # defaulters pay nothing from this day on
    late_base: np.ndarray
    late_amp: np.ndarray  # seasonal swing, deterioration slope (days per month) or default stress
    late_noise: np.ndarray
    onset_day: np.ndarray
    peak_month: np.ndarray
    batch_kind: np.ndarray  # 0 pays invoice by invoice, 1 weekly payment run, 2 monthly run
    run_day: np.ndarray
    method: np.ndarray
    words: np.ndarray  # (n, 4): first word, noun, second word, legal form choice
    account: np.ndarray  # (n, 2): two 9-digit halves of the bank account

    @property
    def n(self) -> int:
        return len(self.behaviour)


def draw_customers(
    rng: np.random.Generator, n: int, span: Span, *, invoice_rate: float = 1.0
) -> CustomerDraw:
    """``invoice_rate`` scales invoices per month (and so credit limits); it draws no random numbers."""
    behaviour = rng.choice(len(cat.BEHAVIOUR_MIX), size=n, p=cat.BEHAVIOUR_MIX).astype(np.int8)
    country = rng.choice(len(cat.COUNTRY_MIX), size=n, p=cat.COUNTRY_MIX).astype(np.int8)
    currency = cat.COUNTRY_CURRENCY[country].astype(np.int8)
    currency[rng.random(n) < cat.EUR_INVOICING_ABROAD] = 0
    segment = rng.choice(len(cat.SEGMENT_MIX), size=n, p=cat.SEGMENT_MIX).astype(np.int8)
    terms_pick = (rng.random(n)[:, None] > cat.TERMS_CDF[segment]).sum(axis=1)
    activity = rng.lognormal(-0.125, 0.5, n)
    median_eur = cat.MEDIAN_INVOICE_EUR[segment] * rng.lognormal(0.0, 0.6, n)
    days = span.days
    created = np.where(
        rng.random(n) < 0.15, rng.integers(0, max(1, int(days * 0.8)), n), -rng.integers(30, 3650, n)
    ).astype(np.int32)
    is_defaulter = behaviour == B.DEFAULTER
    # a defaulter stops paying a fifth to two thirds of the way through its time in the book
    known_from = np.maximum(created, 0)
    default_day = np.where(
        is_defaulter, known_from + (rng.uniform(0.2, 0.65, n) * (days - known_from)).astype(np.int32), NEVER
    ).astype(np.int32)
    stop_day = np.where(is_defaulter, default_day + rng.integers(10, 60, n), NEVER).astype(np.int32)
    batch = rng.random(n) < cat.BATCH_PAYER_RATE[segment]
    draw = CustomerDraw(
        behaviour=behaviour,
        country=country,
        currency=currency,
        segment=segment,
        terms=cat.TERMS[terms_pick].astype(np.int16),
        invoices_per_month=cat.INVOICES_PER_MONTH[segment] * activity * invoice_rate,
        median_cents=np.round(median_eur / cat.FX_START[currency] * 100),
        created_day=created,
        stop_day=stop_day,
        default_day=default_day,
        onset_day=(np.maximum(created, 0) + rng.uniform(0.05, 0.5, n) * days).astype(np.int32),
        peak_month=rng.integers(0, 12, n).astype(np.int8),
        batch_kind=np.where(batch, rng.integers(1, 3, n), 0).astype(np.int8),
        run_day=rng.choice(np.array([10, 15, 25, 28]), size=n).astype(np.int8),
        method=rng.choice(4, size=n, p=[0.5, 0.3, 0.15, 0.05]).astype(np.int8),
        words=np.stack(
            [
                rng.integers(0, k, n)
                for k in (len(cat.NAME_WORDS), len(cat.NAME_NOUNS), len(cat.NAME_SECOND), 3)
            ],
            axis=1,
        ),
        account=rng.integers(0, 10**9, size=(n, 2)),
        **_lateness_params(rng, behaviour),
    )
    return draw


def _lateness_params(rng: np.random.Generator, behaviour: np.ndarray) -> dict[str, np.ndarray]:
    """Mean days late, the size of its trend or swing, and the invoice-to-invoice spread, per customer."""
    n = len(behaviour)
    base_lo = np.array([-4.0, 10.0, 2.0, -2.0, 3.0, 5.0])[behaviour]
    base_hi = np.array([1.0, 35.0, 8.0, 5.0, 15.0, 20.0])[behaviour]
    amp_lo = np.array([0.0, 0.0, 20.0, 5.0, 0.0, 20.0])[behaviour]
    amp_hi = np.array([0.0, 0.0, 45.0, 12.0, 0.0, 40.0])[behaviour]
    noise_hi = np.array([3.0, 8.0, 6.0, 6.0, 8.0, 8.0])[behaviour]
    return {
        "late_base": rng.uniform(base_lo, base_hi, n),
        "late_amp": rng.uniform(amp_lo, amp_hi, n),
        "late_noise": rng.uniform(1.0, noise_hi, n),
    }


def iban(draw: CustomerDraw) -> pa.Array:
    """IBAN-shaped accounts with valid ISO 13616 check digits: country + check + 18-digit BBAN."""
    letters = np.array([[ord(c[0]) - 55, ord(c[1]) - 55] for c in cat.COUNTRY_CODES])[draw.country]
    country_number = letters[:, 0] * 100 + letters[:, 1]
    high, low = draw.account[:, 0], draw.account[:, 1]
    remainder = (high % 97 * pow(10, 15, 97) + low % 97 * pow(10, 6, 97) + country_number * 100) % 97
    check = 98 - remainder
    return s.concat(
        s.pick(cat.COUNTRY_CODES, draw.country), s.digits(check, 2), s.digits(high, 9), s.digits(low, 9)
    )


def name_parts(draw: CustomerDraw) -> tuple[pa.Array, pa.Array, pa.Array]:
    """(trading name without legal form, legal form, full name)."""
    words = draw.words
    first = s.pick([w for w, _ in cat.NAME_WORDS], words[:, 0])
    noun = s.pick(cat.NAME_NOUNS, words[:, 1])
    second = s.pick(cat.NAME_SECOND, words[:, 2])
    trading = pc.utf8_trim_whitespace(pc.binary_join_element_wise(first, noun, second, " "))
    legal = s.pick(cat.LEGAL_FORMS, draw.country.astype(np.int64) * 3 + words[:, 3])
    return trading, legal, pc.binary_join_element_wise(trading, legal, " ")


def customers_table(draw: CustomerDraw, span: Span, *, first_ordinal: int) -> pa.Table:
    n = draw.n
    ordinals = np.arange(first_ordinal, first_ordinal + n)
    _, _, name = name_parts(draw)
    slug = s.concat(
        s.pick([slug for _, slug in cat.NAME_WORDS], draw.words[:, 0]),
        "-",
        pc.utf8_lower(s.pick(cat.NAME_NOUNS, draw.words[:, 1])),
    )
    email = s.concat(
        s.pick(cat.EMAIL_BOXES, ordinals % len(cat.EMAIL_BOXES)), "@", slug, s.digits(ordinals % 1000), ".",
        s.pick(cat.TLDS, draw.country),
    )  # fmt: skip
    yearly_cents = draw.median_cents * np.exp(0.18) * draw.invoices_per_month * 12
    limit = np.maximum(1000.0, np.round(yearly_cents / 100 * draw.terms / 365 * 1.5, -3))
    collector = np.where(draw.segment == 0, ordinals % 2, 2 + ordinals % (cat.N_COLLECTORS - 2)) + 1
    return pa.table(
        {
            "customer_id": s.ids("C", ordinals, 7),
            "name": name,
            "country": s.pick(cat.COUNTRY_CODES, draw.country),
            "currency": s.pick(cat.CURRENCIES, draw.currency),
            "payment_terms_days": pa.array(draw.terms.astype(np.int64)),
            "credit_limit": pa.array(limit, pa.float64()),
            "segment": s.pick(cat.SEGMENTS, draw.segment),
            "collector_id": s.ids("COL-", collector, 2),
            "created_at": span.timestamps(draw.created_day),
            "language": s.pick(cat.LANGUAGES, draw.country),
            "email": email,
        }
    )
