"""The ledger's open items (aging, worklists) and the features' open-invoice table are computed by
separate code (``arrisk.ledger.asof`` and the feature engines): on generated books they must name the
same open invoices with the same open amounts, on any date. By design they differ only on a residual
between half a cent and the features' paid tolerance (``paid_tolerance_abs``/``_rel``: 0.01, or
0.1 % of the amount): the ledger keeps it open (it is owed), the features count the invoice as paid."""

from __future__ import annotations

import pytest

from arrisk.ledger.asof import open_items
from arrisk.ledger.generator import generate_book
from features.pipeline import build_snapshot
from features.synthetic import generate_small_book

BOOKS = {
    "generated": lambda: generate_book(n_customers=600, months=8, seed=3),
    # reversed allocations, credit notes, write-offs, several currencies
    "every event": lambda: generate_small_book(300, months=8, seed=11),
}


@pytest.fixture(scope="module", params=list(BOOKS))
def frames(request):  # type: ignore[no-untyped-def]
    return BOOKS[request.param]()


@pytest.mark.parametrize("as_of", ["2025-02-28", "2025-05-15", "2025-08-20"])
def test_open_items_and_open_invoice_features_agree(frames, as_of: str) -> None:  # type: ignore[no-untyped-def]
    ledger = open_items(frames, as_of).set_index("invoice_id")
    features = build_snapshot(frames, as_of).invoices.set_index("invoice_id")
    assert len(ledger) > 100
    assert sorted(ledger.index) == sorted(features.index)
    ledger_open = ledger.loc[features.index, "open_amount_base"].to_numpy()
    assert features["inv_open_amount"].to_numpy() == pytest.approx(ledger_open, rel=1e-9, abs=1e-6)
    past_due = ledger.loc[features.index, "days_past_due"].clip(lower=0).to_numpy()
    assert features["inv_days_past_due"].to_numpy() == pytest.approx(past_due)
