"""The multi-process build on one machine gives the one-process snapshot, row for row."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from arrisk.ledger.frames import LedgerFrames
from features.asof import clip_book
from features.parallel import book_part, customer_ranges, default_workers
from features.pipeline import build_snapshot
from features.synthetic import generate_small_book


@pytest.fixture(scope="module")
def book() -> LedgerFrames:
    """Invoices shuffled, so the customers' invoices interleave and the parts' rows must be re-ordered."""
    frames = generate_small_book(120, months=12, seed=11)
    shuffled = frames.invoices.sample(frac=1.0, random_state=0).reset_index(drop=True)
    return replace(frames, invoices=shuffled)


@pytest.mark.parametrize("as_of", ["2025-06-30", "2025-11-15"])
@pytest.mark.parametrize("workers", [2, 3])
def test_parallel_snapshot_equals_one_process(book: LedgerFrames, as_of: str, workers: int) -> None:
    one = build_snapshot(book, as_of, workers=1)
    many = build_snapshot(book, as_of, workers=workers)
    assert len(one.invoices) > 20 and len(one.customers) > 100
    pd.testing.assert_frame_equal(many.customers, one.customers)
    pd.testing.assert_frame_equal(many.invoices, one.invoices)
    assert many.version == one.version


def test_parts_hold_every_fact_of_their_customers_once(book: LedgerFrames) -> None:
    clipped = clip_book(book, "2025-11-15")
    ranges = customer_ranges(len(clipped.customer_ids), 3)
    parts = [book_part(clipped, lo, hi) for lo, hi in ranges]
    assert [hi - lo for lo, hi in ranges] == [len(p.customer_ids) for p, _ in parts]
    for name in ("invoices", "allocations", "credit_notes", "disputes", "promises", "write_offs", "dunning",
                 "plans"):  # fmt: skip
        whole = getattr(clipped, name)
        assert sum(len(getattr(p, name)) for p, _ in parts) == int((whole["cust"] >= 0).sum()), name
        for (part, _), (lo, _hi) in zip(parts, ranges, strict=True):
            frame = getattr(part, name)
            assert frame["cust"].between(0, len(part.customer_ids) - 1).all(), name
            if "inv" in frame and name != "credit_notes":
                # an invoice fact keeps its invoice: same invoice id, same customer as in the whole book
                assert (frame["inv"] >= 0).all()
                ids = part.invoice_ids[frame["inv"].to_numpy()]
                owner = clipped.invoices.set_index(clipped.invoice_ids)["cust"].loc[ids].to_numpy()
                assert (owner == frame["cust"].to_numpy() + lo).all(), name
    # every invoice lands in exactly one part, under its own id
    codes = sorted(c for _, global_inv in parts for c in global_inv)
    assert codes == list(range(len(clipped.invoices)))


def test_small_books_and_small_machines_stay_in_one_process(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import features.parallel as parallel

    monkeypatch.setattr(parallel, "cores", lambda: 16)
    assert default_workers(5_000) == 1
    assert default_workers(250_000) == 2
    assert default_workers(10_000_000) == parallel.MAX_WORKERS
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    assert default_workers(10_000_000) == 1
    assert customer_ranges(10, 3) == [(0, 3), (3, 7), (7, 10)]
    assert customer_ranges(2, 4) == [(0, 1), (1, 2)]
