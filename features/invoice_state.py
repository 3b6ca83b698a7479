"""State of every invoice in an ``AsOfBook``: open amount and the day it was settled, if it was.

Open amount = amount - allocations - credit notes against it - write-offs (all already cut to the
as-of date). Settled = the open amount reaches the tolerance; the settlement day is the first day
the running total of those events covers the invoice.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.asof import AsOfBook
from features.config import FeatureConfig
from features.customer import stable_order


def tolerance(amount: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """Open amount below which an invoice counts as settled (rounding, bank charges)."""
    return np.maximum(config.paid_tolerance_abs, config.paid_tolerance_rel * np.abs(amount))


def _sum_by_invoice(n: int, inv: pd.Series, amount: pd.Series) -> np.ndarray:
    return np.bincount(inv.to_numpy(), weights=amount.to_numpy(), minlength=n)[:n]


def invoice_state(book: AsOfBook, config: FeatureConfig) -> pd.DataFrame:
    """Per invoice (row = inv code): paid, credited, written_off, open_amount, settled_at, written_off_at.

    ``settled_at`` is NaT for invoices still open; ``settled_by_write_off`` marks those closed by a
    write-off rather than by payment or credit note.
    """
    inv = book.invoices
    n = len(inv)
    credits = book.credit_notes[book.credit_notes["inv"] >= 0]
    state = pd.DataFrame(
        {
            "paid": _sum_by_invoice(n, book.allocations["inv"], book.allocations["amount"]),
            "credited": _sum_by_invoice(n, credits["inv"], credits["amount"]),
            "written_off": _sum_by_invoice(n, book.write_offs["inv"], book.write_offs["amount"]),
        }
    )
    amount = inv["amount"].to_numpy()
    state["open_amount"] = amount - state["paid"] - state["credited"] - state["written_off"]
    state["is_open"] = state["open_amount"].to_numpy() > tolerance(amount, config)
    settled_at, by_write_off = _settlement_dates(book, state["is_open"].to_numpy(), amount, config)
    state["settled_at"] = settled_at
    state["settled_by_write_off"] = by_write_off
    wo_first = book.write_offs.groupby("inv")["date"].min()
    state["written_off_at"] = pd.Series(pd.NaT, index=state.index, dtype="datetime64[ns]")
    state.loc[wo_first.index, "written_off_at"] = wo_first.to_numpy()
    return state


def _settlement_dates(
    book: AsOfBook, is_open: np.ndarray, amount: np.ndarray, config: FeatureConfig
) -> tuple[np.ndarray, np.ndarray]:
    """First day the running total of allocations, credit notes and write-offs covers each settled invoice."""
    n = len(amount)
    settled = np.flatnonzero(~is_open)
    credits = book.credit_notes[book.credit_notes["inv"] >= 0]
    events = pd.concat(
        [
            pd.DataFrame(
                {
                    "inv": book.allocations["inv"],
                    "date": book.allocations["applied_at"],
                    "wo": False,
                    "amount": book.allocations["amount"],
                }
            ),
            pd.DataFrame(
                {
                    "inv": credits["inv"],
                    "date": credits["issue_date"],
                    "wo": False,
                    "amount": credits["amount"],
                }
            ),
            pd.DataFrame(
                {
                    "inv": book.write_offs["inv"],
                    "date": book.write_offs["date"],
                    "wo": True,
                    "amount": book.write_offs["amount"],
                }
            ),
        ],
        ignore_index=True,
    )
    events = events[np.isin(events["inv"].to_numpy(), settled)] if len(settled) < n else events
    events = events.take(stable_order(events["inv"].to_numpy(), events["date"].to_numpy()))
    running = events.groupby("inv", sort=False)["amount"].cumsum().to_numpy()
    inv_codes = events["inv"].to_numpy()
    covered = running >= amount[inv_codes] - tolerance(amount[inv_codes], config)
    first = events[covered].drop_duplicates("inv")
    settled_at = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    by_write_off = np.zeros(n, dtype=bool)
    settled_at[first["inv"].to_numpy()] = first["date"].to_numpy()
    by_write_off[first["inv"].to_numpy()] = first["wo"].to_numpy()
    # zero-amount or otherwise closed invoices without events settle on their issue date
    missing = settled[np.isnat(settled_at[settled])]
    settled_at[missing] = book.invoices["issue_date"].to_numpy()[missing]
    return settled_at, by_write_off
