"""The demo trains both models on a generated book fast, registers champions, and they behave."""

from __future__ import annotations

import time
from datetime import date

import numpy as np
import pytest


@pytest.mark.slow
def test_demo_models_are_champions_and_behave(settings) -> None:
    from arrisk.ledger.generator import generate_book
    from features.pipeline import build_snapshot
    from models.registry import load_champion
    from training.demo import train_demo_models

    frames = generate_book(n_customers=2000, months=24, seed=11)
    started = time.perf_counter()
    metrics = train_demo_models(frames)
    assert time.perf_counter() - started < 60
    assert metrics["default_risk"]["valid_roc_auc"] > 0.8 and metrics["late_payment"]["valid_roc_auc"] > 0.7
    assert 0.6 <= metrics["payment_date"]["valid_coverage_p10_p90"] <= 0.95

    snapshot = build_snapshot(frames, date(2026, 10, 31))
    for name, rows, bumps in (
        ("default_risk", snapshot.customers, {"oldest_days_past_due": 30.0, "share_late_over_0d": 0.2}),
        ("late_payment", snapshot.invoices, {"inv_days_past_due": 15.0, "share_late_over_15d": 0.2}),
    ):
        model = load_champion(name).model
        base = model.predict_proba(rows)
        for feature, bump in bumps.items():
            assert feature in model.monotone_constraints_
            worse = rows.assign(**{feature: rows[feature] + bump})
            assert (model.predict_proba(worse) >= base - 1e-12).all(), feature
        shuffled = rows.assign(customer_id=rows["customer_id"].sample(frac=1, random_state=0).to_numpy())
        np.testing.assert_array_equal(model.predict_proba(shuffled), base)
