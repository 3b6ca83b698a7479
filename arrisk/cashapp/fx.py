"""Exchange rates as of a booking date, for payments in another currency than the invoice.

Rates are the ledger's ``fx_rates``: units of the base currency per unit of ``currency``, valid from
``rate_date`` on; the base currency is 1 by definition. A line is converted at the rates in force on
its booking date (never a rate dated after it), crossing via the base currency. Without a rate for
either side there is no conversion, and the matcher does not consider that currency at all.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import pandas as pd

from arrisk.errors import ValidationError

FX_COLUMNS = ["currency", "rate_date", "rate_to_base"]
ONE = Decimal(1)


@dataclass(frozen=True)
class FxConversion:
    """``cents`` of ``from_ccy`` are ``converted`` cents of ``to_ccy`` at ``rate`` (to per from)."""

    from_ccy: str
    to_ccy: str
    cents: int
    converted: int
    rate: Decimal
    legs: dict[str, tuple[Decimal, dt.date | None]]  # currency -> (rate_to_base, its rate_date)

    def back(self, cents: int) -> int:
        """Cents of ``to_ccy`` expressed in ``from_ccy`` at the same rate."""
        return int((Decimal(int(cents)) / self.rate).to_integral_value(ROUND_HALF_UP))

    def evidence(self) -> dict[str, Any]:
        dates = [d for _, d in self.legs.values() if d is not None]
        return {
            "from": self.from_ccy,
            "to": self.to_ccy,
            "rate": str(self.rate.quantize(Decimal("0.00000001"))),
            "rate_date": min(dates).isoformat() if dates else None,
            "legs": {
                c: {"rate_to_base": str(r), "rate_date": d and d.isoformat()}
                for c, (r, d) in self.legs.items()
            },
            "line_amount": f"{self.cents / 100:.2f}",
            "converted_amount": f"{self.converted / 100:.2f}",
        }


class FxTable:
    """Rates per currency, sorted by date; ``rate_on`` finds the one in force on a day."""

    def __init__(self, rates: pd.DataFrame, *, base_currency: str):
        self.base = base_currency
        self._days: dict[str, list[int]] = {}
        self._rates: dict[str, list[Decimal]] = {}
        frame = rates.sort_values(["currency", "rate_date"], kind="stable")
        for ccy, group in frame.groupby("currency", sort=False):
            self._days[str(ccy)] = [pd.Timestamp(d).date().toordinal() for d in group["rate_date"]]
            self._rates[str(ccy)] = [Decimal(str(r)) for r in group["rate_to_base"]]

    def __len__(self) -> int:
        return sum(len(v) for v in self._days.values())

    def rate_on(self, currency: str, day: dt.date) -> tuple[Decimal, dt.date | None] | None:
        """(rate_to_base, its rate_date) in force on ``day``; None when there is none yet."""
        if currency == self.base:
            return ONE, None
        days = self._days.get(currency)
        i = bisect_right(days, day.toordinal()) - 1 if days else -1
        if i < 0 or days is None:
            return None
        return self._rates[currency][i], dt.date.fromordinal(days[i])

    def convert(self, cents: int, *, from_ccy: str, to_ccy: str, day: dt.date) -> FxConversion | None:
        """``cents`` of ``from_ccy`` in ``to_ccy`` at the rates in force on ``day`` (cross via base)."""
        src, dst = self.rate_on(from_ccy, day), self.rate_on(to_ccy, day)
        if src is None or dst is None or dst[0] == 0:
            return None
        rate = src[0] / dst[0]
        converted = int((Decimal(int(cents)) * rate).to_integral_value(ROUND_HALF_UP))
        legs = {from_ccy: src, to_ccy: dst}
        return FxConversion(from_ccy, to_ccy, int(cents), converted, rate, legs)


def fx_table(rates: pd.DataFrame | None, *, base_currency: str) -> FxTable | None:
    """The table, or None when there are no rates (cross-currency matching is then off)."""
    if rates is None or not len(rates):
        return None
    return FxTable(rates, base_currency=base_currency)


def validate_fx_rates(frame: pd.DataFrame, *, source: str) -> pd.DataFrame:
    """The interchange ``fx_rates`` table checked: currency, a date, a positive rate per row."""
    missing = [c for c in FX_COLUMNS if c not in frame]
    if missing:
        raise ValidationError(
            f"{source}: fx rates lack column(s) {missing} (currency, rate_date, rate_to_base)"
        )
    out = frame[FX_COLUMNS].copy()
    out["currency"] = out["currency"].astype(str).str.strip().str.upper()
    for i, (ccy, day, rate) in enumerate(out.itertuples(index=False), start=2):
        if len(ccy) != 3:
            raise ValidationError(f"{source} row {i}: currency {ccy!r} is not a 3-letter code")
        if pd.isna(pd.to_datetime(day, errors="coerce")):
            raise ValidationError(f"{source} row {i}: rate_date {day!r} is not a date")
        try:
            ok = Decimal(str(rate)) > 0
        except InvalidOperation:
            ok = False
        if not ok:
            raise ValidationError(f"{source} row {i}: rate_to_base {rate!r} must be a positive number")
    out["rate_date"] = pd.to_datetime(out["rate_date"])
    return out
