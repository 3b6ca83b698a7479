"""Ledger state *as of* a date: only facts dated on or before it count.

An invoice's open amount as of D is its amount less allocations applied by D and not reversed by D,
credit notes against it issued by D, and write-offs dated by D.
"""

from __future__ import annotations

from typing import Protocol

import pandas as pd

from arrisk.ledger.frames import LedgerFrames

SETTLED_TOLERANCE = 0.005


def _as_ts(as_of: object) -> pd.Timestamp:
    return pd.Timestamp(as_of).normalize()


class SettlementFrames(Protocol):
    """What settles invoices: ``LedgerFrames`` and the collections ``Book`` both provide it."""

    @property
    def allocations(self) -> pd.DataFrame: ...
    @property
    def credit_notes(self) -> pd.DataFrame: ...
    @property
    def write_offs(self) -> pd.DataFrame: ...


def settled_amounts(frames: SettlementFrames, as_of: object) -> pd.Series:
    """Per invoice id: what allocations, credit notes and write-offs have settled by ``as_of``."""
    d = _as_ts(as_of)
    alloc = frames.allocations
    live = alloc["applied_at"] <= d
    if "reversed_at" in alloc:
        live &= alloc["reversed_at"].isna() | (alloc["reversed_at"] > d)
    parts = [alloc.loc[live, ["invoice_id", "amount"]]]
    notes = frames.credit_notes
    if len(notes) and "invoice_id" in notes:
        parts.append(
            notes.loc[notes["invoice_id"].notna() & (notes["issue_date"] <= d), ["invoice_id", "amount"]]
        )
    offs = frames.write_offs
    if len(offs):
        parts.append(offs.loc[offs["date"] <= d, ["invoice_id", "amount"]])
    settled = pd.concat(parts, ignore_index=True)
    return settled.groupby("invoice_id")["amount"].sum()


def fx_rates_as_of(frames: LedgerFrames, as_of: object, base_currency: str) -> pd.Series:
    """Units of base currency per unit of each currency, using the latest rate dated by ``as_of``."""
    d = _as_ts(as_of)
    rates = frames.fx_rates
    known = rates[rates["rate_date"] <= d].sort_values("rate_date").groupby("currency")["rate_to_base"].last()
    known[base_currency] = 1.0
    return known


def open_items(frames: LedgerFrames, as_of: object, *, base_currency: str = "EUR") -> pd.DataFrame:
    """Invoices issued by ``as_of`` with an open amount, their days past due and base-currency amount."""
    d = _as_ts(as_of)
    inv = frames.invoices[frames.invoices["issue_date"] <= d]
    settled = inv["invoice_id"].map(settled_amounts(frames, d)).fillna(0.0)
    open_amount = (inv["amount"] - settled).clip(lower=0.0)
    out = inv.assign(open_amount=open_amount, days_past_due=(d - inv["due_date"]).dt.days)
    out = out[out["open_amount"] > SETTLED_TOLERANCE].copy()
    rate = out["currency"].map(fx_rates_as_of(frames, d, base_currency))
    missing = sorted(set(out.loc[rate.isna(), "currency"]))
    if missing:
        from arrisk.errors import ValidationError

        raise ValidationError(
            f"no FX rate to {base_currency} dated on or before {d.date()} for: {', '.join(missing)}"
        )
    out["open_amount_base"] = out["open_amount"] * rate
    return out.reset_index(drop=True)
