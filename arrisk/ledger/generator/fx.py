"""Daily exchange rates: a random walk per currency around plausible starting levels."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from arrisk.ledger.generator import catalog as cat
from arrisk.ledger.generator import strings as s
from arrisk.ledger.generator.timeline import Span


def fx_rates_table(seed: int, span: Span, *, base_currency: str) -> pa.Table:
    """Units of ``base_currency`` per unit of each currency, one row per currency and day of the book.

    The base currency itself gets one row at rate 1 on the first day.
    """
    rng = np.random.default_rng([seed, 0])
    steps = rng.standard_normal((len(cat.CURRENCIES), span.days)) * cat.FX_DAILY_VOL[:, None]
    steps[:, 0] = 0.0
    in_eur = cat.FX_START[:, None] * np.exp(np.cumsum(steps, axis=1))
    base = cat.CURRENCIES.index(base_currency)
    rate = np.round(in_eur / in_eur[base], 6)
    others = np.array([i for i in range(len(cat.CURRENCIES)) if i != base])
    currency = np.r_[base, np.repeat(others, span.days)]
    day = np.r_[0, np.tile(np.arange(span.days), len(others))].astype(np.int32)
    values = np.r_[1.0, rate[others].ravel()]
    return pa.table(
        {
            "currency": s.pick(cat.CURRENCIES, currency),
            "rate_date": span.timestamps(day),
            "rate_to_base": pa.array(values, pa.float64()),
        }
    )
