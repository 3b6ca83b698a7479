"""Credit limits from the store: the limit in force on the as-of date, never today's master value."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd
import pytest
from sqlalchemy import Engine

from arrisk.ledger.generator import generate_book
from arrisk.ledger.importer import import_frames
from arrisk.ledger.load import load_frames
from features.pipeline import build_snapshot


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"], indirect=True)
def test_reimported_limit_counts_from_the_import_day_only(engine: Engine) -> None:
    book = generate_book(n_customers=30, months=6, seed=4)
    import_frames(engine, book, source="first")
    cid = str(book.customers["customer_id"].iloc[0])
    old_limit = float(book.customers["credit_limit"].iloc[0])
    raised = book.customers.copy()
    raised.loc[raised.index[0], "credit_limit"] = old_limit * 3 + 1000
    import_frames(engine, replace(book, customers=raised), source="second")

    frames = load_frames(engine)
    history = frames.credit_limits[frames.credit_limits["customer_id"] == cid]
    assert len(history) == 2
    assert history["effective_date"].isna().iloc[0]  # the first import: from the customer's start
    assert history["effective_date"].iloc[1] == pd.Timestamp(dt.date.today())

    def limit_on(day: pd.Timestamp) -> float:
        customers = build_snapshot(frames, day).customers.set_index("customer_id")
        return float(customers.loc[cid, "credit_limit"])  # base currency: compare ratios below

    today = pd.Timestamp(dt.date.today())
    before, after = limit_on(today - pd.Timedelta(days=1)), limit_on(today)
    assert after / before == pytest.approx((old_limit * 3 + 1000) / old_limit, rel=0.02)
    # a customer whose limit never changed keeps it on every date
    other = str(book.customers["customer_id"].iloc[1])
    early = build_snapshot(frames, today - pd.Timedelta(days=60)).customers.set_index("customer_id")
    assert early.loc[other, "credit_limit"] > 0
