"""Leak-free guarantee: changing anything dated after the as-of date never moves a feature."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from arrisk.ledger.frames import LedgerFrames
from features.leakage import MUTATIONS, check_leak_free, mutated_books, snapshot_differences
from features.pipeline import build_snapshot
from features.snapshot_io import Snapshot
from features.synthetic import generate_small_book


@pytest.fixture(scope="module")
def book() -> LedgerFrames:
    return generate_small_book(40, months=10, seed=7)


def random_as_of_dates(seed: int, k: int) -> list[pd.Timestamp]:
    rng = np.random.default_rng(seed)
    return [pd.Timestamp("2025-01-20") + pd.Timedelta(days=int(d)) for d in rng.integers(0, 270, k)]


@pytest.mark.parametrize("as_of", random_as_of_dates(11, 4), ids=str)
def test_future_events_never_move_a_feature(book: LedgerFrames, as_of: pd.Timestamp) -> None:
    assert check_leak_free(book, as_of, seed=int(as_of.dayofyear)) == []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_generated_book_is_leak_free_at_random_dates(seed: int) -> None:
    """The project's generator (its own payment behaviours), random book and dates per seed."""
    from arrisk.ledger.generator import generate_book

    frames = generate_book(n_customers=80, months=12, seed=seed)
    for as_of in random_as_of_dates(seed, 2):
        assert check_leak_free(frames, as_of, seed=seed) == [], as_of


def test_every_mutation_really_changes_the_book_after_as_of(book: LedgerFrames) -> None:
    """Guard against a checker that passes because its mutations do nothing."""
    as_of = pd.Timestamp("2025-06-15")
    later = pd.Timestamp("2025-12-31")
    base_late = build_snapshot(book, later)
    moved = {
        name
        for name, changed in mutated_books(book, as_of, 3)
        if snapshot_differences(base_late, build_snapshot(changed, later))
    }
    # new_customer only adds a customer (changes the row count); everything else changes features
    assert moved == set(MUTATIONS)


def _with_leaky_column(snapshot: Snapshot, values: pd.Series) -> Snapshot:
    customers = snapshot.customers.assign(peek=snapshot.customers["customer_id"].map(values).fillna(0.0))
    return replace(snapshot, customers=customers)


def leaky_invoice_count(frames: LedgerFrames, as_of: pd.Timestamp) -> Snapshot:
    """Counts every invoice the customer will ever get: peeks ahead."""
    return _with_leaky_column(build_snapshot(frames, as_of), frames.invoices.groupby("customer_id").size())


def leaky_open_disputes(frames: LedgerFrames, as_of: pd.Timestamp) -> Snapshot:
    """Uses today's dispute status instead of the status on the as-of date."""
    d = frames.disputes
    still_open = d[(d["opened_at"] <= as_of) & d["resolved_at"].isna()]
    counts = still_open.merge(frames.invoices[["invoice_id", "customer_id"]]).groupby("customer_id").size()
    return _with_leaky_column(build_snapshot(frames, as_of), counts)


def leaky_reversal_blind(frames: LedgerFrames, as_of: pd.Timestamp) -> Snapshot:
    """Drops allocations reversed at any time, even after the as-of date."""
    alloc = frames.allocations
    live = alloc[(alloc["applied_at"] <= as_of) & alloc["reversed_at"].isna()]
    paid = live.merge(frames.invoices[["invoice_id", "customer_id"]]).groupby("customer_id")["amount"].sum()
    return _with_leaky_column(build_snapshot(frames, as_of), paid)


def leaky_master_limit(frames: LedgerFrames, as_of: pd.Timestamp) -> Snapshot:
    """Reads today's credit limit from the customer master, not the limit in force on the as-of date."""
    master = frames.customers.set_index("customer_id")["credit_limit"]
    return _with_leaky_column(build_snapshot(frames, as_of), master)


@pytest.mark.parametrize(
    ("leaky", "caught_by"),
    [
        (leaky_invoice_count, "new_invoice"),
        (leaky_open_disputes, "resolve_disputes"),
        (leaky_reversal_blind, "reverse_allocations"),
        (leaky_master_limit, "credit_limit_change"),
    ],
)
def test_checker_catches_a_feature_that_peeks_ahead(book: LedgerFrames, leaky, caught_by: str) -> None:
    problems = check_leak_free(book, "2025-06-15", build=leaky, seed=5)
    assert f"{caught_by}: customers.peek" in problems
    assert all(p.endswith("customers.peek") for p in problems)


def test_build_snapshot_does_not_mutate_its_input(book: LedgerFrames) -> None:
    before = {name: frame.copy() for name, frame in book.items()}
    build_snapshot(book, "2025-05-01")
    for name, frame in book.items():
        pd.testing.assert_frame_equal(frame, before[name], obj=name)


def test_credit_limit_is_the_one_in_force_on_the_as_of_date() -> None:
    """A limit changed mid-year: before the change snapshots see the first limit, from its day the new one."""
    book = generate_small_book(30, months=10, seed=7)
    history = book.credit_limits
    change = history[history["effective_date"].notna() & (history["currency"] == "EUR")].iloc[0]
    cid, when = change["customer_id"], change["effective_date"]
    first = history[(history["customer_id"] == cid) & history["effective_date"].isna()]["credit_limit"]
    assert float(first.iloc[0]) != float(change["credit_limit"])

    def limit_on(day: pd.Timestamp) -> float:
        return float(build_snapshot(book, day).customers.set_index("customer_id").loc[cid, "credit_limit"])

    assert limit_on(when - pd.Timedelta(days=1)) == pytest.approx(float(first.iloc[0]))
    assert limit_on(when) == pytest.approx(float(change["credit_limit"]))
