"""Invoice features for invoices open on the as-of date: terms, size, timing, disputes, dunning."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.asof import AsOfBook
from features.customer import days, ratio


def invoice_features(book: AsOfBook, state: pd.DataFrame) -> pd.DataFrame:
    """One row per open invoice: ``inv`` and ``cust`` codes plus the ``inv_*`` features."""
    is_open = state["is_open"].to_numpy()
    inv = book.invoices[is_open]
    codes = inv["inv"].to_numpy()
    as_of = book.as_of.to_datetime64()
    amount = inv["amount"].to_numpy()
    open_amount = state["open_amount"].to_numpy()[is_open]
    median = book.invoices.groupby("cust")["amount"].median()
    to_due = days(inv["due_date"].to_numpy() - as_of)
    disputes = book.disputes
    open_disputes = disputes.loc[disputes["resolved_at"].isna(), "inv"].unique()
    dunning = book.dunning.groupby("inv")["level"].max()
    n_alloc = np.bincount(book.allocations["inv"].to_numpy(), minlength=len(book.invoices))
    return pd.DataFrame(
        {
            "inv": codes,
            "cust": inv["cust"].to_numpy(),
            "inv_amount": amount,
            "inv_open_amount": open_amount,
            "inv_share_open": ratio(open_amount, amount),
            "inv_terms_days": days(inv["due_date"].to_numpy() - inv["issue_date"].to_numpy()),
            "inv_amount_vs_customer_median": ratio(amount, median.reindex(inv["cust"]).to_numpy()),
            "inv_days_to_due": to_due,
            "inv_days_past_due": np.maximum(0.0, -to_due),
            "inv_age_days": days(as_of - inv["issue_date"].to_numpy()),
            "inv_is_disputed": np.isin(codes, open_disputes).astype("float64"),
            "inv_dunning_level": dunning.reindex(codes).fillna(0.0).to_numpy(),
            "inv_n_allocations": n_alloc[codes].astype("float64"),
        }
    )
