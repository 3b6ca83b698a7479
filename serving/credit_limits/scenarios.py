"""What would change a recommendation: the customer's feature row after paying some invoices."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

OVER_60 = ("aging_61_90_amount", "aging_over_90_amount")


def _paid(row: pd.DataFrame, invoices: pd.DataFrame, paid: pd.Series) -> pd.DataFrame:
    """``row`` as if the invoices marked in ``paid`` were settled today (exposure features only)."""
    out = row.copy()
    amount = float(invoices.loc[paid, "open_amount"].sum())
    left = invoices.loc[~paid]
    overdue_left = left.loc[left["days_past_due"] > 0]
    updates = {
        "open_amount": float(left["open_amount"].sum()),
        "overdue_amount": float(overdue_left["open_amount"].sum()),
        "n_open_invoices": float(len(left)),
        "n_overdue_invoices": float(len(overdue_left)),
        "oldest_days_past_due": float(overdue_left["days_past_due"].max()) if len(overdue_left) else 0.0,
    }
    updates["share_overdue"] = (
        updates["overdue_amount"] / updates["open_amount"] if updates["open_amount"] > 0 else np.nan
    )
    for edge, name in (
        (30, "aging_1_30_amount"),
        (60, "aging_31_60_amount"),
        (90, "aging_61_90_amount"),
        (10**9, "aging_over_90_amount"),
    ):
        low = {30: 0, 60: 30, 90: 60, 10**9: 90}[edge]
        band = overdue_left.loc[
            (overdue_left["days_past_due"] > low) & (overdue_left["days_past_due"] <= edge)
        ]
        updates[name] = float(band["open_amount"].sum())
    limit = out["credit_limit"].iloc[0] if "credit_limit" in out else np.nan
    if "credit_utilisation" in out and limit and limit > 0:
        updates["credit_utilisation"] = updates["open_amount"] / limit
    for col, value in updates.items():
        if col in out:
            out[col] = value
    out.attrs["paid_amount"] = amount
    out.attrs["paid_count"] = int(paid.sum())
    return out


SCENARIOS: dict[str, tuple[str, Callable[[pd.DataFrame], pd.Series]]] = {
    "pay_over_60": (
        "paying the {n} invoices over 60 days past due ({amount:,.0f})",
        lambda inv: inv["days_past_due"] > 60,
    ),
    "pay_all_overdue": (
        "paying all {n} overdue invoices ({amount:,.0f})",
        lambda inv: inv["days_past_due"] > 0,
    ),
}


def scenario_rows(row: pd.DataFrame, invoices: pd.DataFrame) -> list[tuple[str, str, pd.DataFrame]]:
    """(scenario, description, changed row) for every scenario that pays at least one invoice."""
    out = []
    for name, (template, which) in SCENARIOS.items():
        paid = which(invoices) if len(invoices) else pd.Series(dtype=bool)
        if not paid.any():
            continue
        changed = _paid(row, invoices, paid)
        out.append(
            (name, template.format(n=int(paid.sum()), amount=float(changed.attrs["paid_amount"])), changed)
        )
    return out
