"""Scores of a feature snapshot: which table a model reads, probabilities per customer and invoice."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from arrisk.errors import ValidationError


def model_level(model: Any, snapshot: Any) -> str:
    """'customer' when the model reads only customer features, 'invoice' when it needs invoice ones."""
    names = set(model.feature_names_)
    if names <= set(snapshot.customers.columns):
        return "customer"
    if names <= set(snapshot.invoices.columns):
        return "invoice"
    missing = sorted(names - set(snapshot.invoices.columns))
    raise ValidationError(
        f"model {getattr(model, 'name', '?')}: features {missing[:5]} "
        f"are not in feature set {snapshot.version}"
    )


def customer_probabilities(model: Any, snapshot: Any) -> np.ndarray:
    """One probability per row of ``snapshot.customers`` (an invoice model gives the customer's worst)."""
    if model_level(model, snapshot) == "customer":
        return np.asarray(model.predict_proba(snapshot.customers), dtype="float64")
    inv = snapshot.invoices
    worst = pd.Series(model.predict_proba(inv), index=inv.index).groupby(inv["customer_id"]).max()
    return snapshot.customers["customer_id"].map(worst).fillna(0.0).to_numpy(dtype="float64")


def invoice_probabilities(model: Any, snapshot: Any) -> np.ndarray:
    """One probability per row of ``snapshot.invoices`` (a customer model is broadcast to its invoices)."""
    if model_level(model, snapshot) == "invoice":
        return np.asarray(model.predict_proba(snapshot.invoices), dtype="float64")
    per_customer = pd.Series(model.predict_proba(snapshot.customers), index=snapshot.customers["customer_id"])
    return snapshot.invoices["customer_id"].map(per_customer).to_numpy(dtype="float64")


def invoice_days_late(model: Any | None, snapshot: Any) -> pd.DataFrame:
    """p10/p50/p90 days late per open invoice, NaN without a payment-date model."""
    inv = snapshot.invoices
    if model is None or len(inv) == 0:
        return pd.DataFrame(np.nan, index=inv.index, columns=["p10", "p50", "p90"])
    return model.predict_quantiles(inv)[["p10", "p50", "p90"]]
