"""The Dask path gives the single-machine snapshot, row for row."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest

from arrisk.ledger.frames import LedgerFrames
from features.dask_backend import build_snapshot_dask, partition_frames
from features.pipeline import build_snapshot
from features.synthetic import generate_small_book


@pytest.fixture(scope="module")
def book() -> LedgerFrames:
    return generate_small_book(50, months=10, seed=3)


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        host="127.0.0.1",
        protocol="tcp",
        dashboard_address=None,
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def test_partitions_split_customers_and_keep_their_facts(book: LedgerFrames) -> None:
    parts = partition_frames(book, 3)
    assert sum(len(p.customers) for p in parts) == len(book.customers)
    assert sum(len(p.invoices) for p in parts) == len(book.invoices)
    assert sum(len(p.allocations) for p in parts) == len(book.allocations)
    for p in parts:
        own = set(p.customers["customer_id"])
        assert set(p.invoices["customer_id"]) <= own
        assert set(p.allocations["invoice_id"]) <= set(p.invoices["invoice_id"])
        assert set(p.dunning_events["customer_id"]) <= own


@pytest.mark.parametrize("as_of", ["2025-04-30", "2025-09-15"])
def test_dask_snapshot_equals_single_machine(book: LedgerFrames, client, as_of: str) -> None:
    single = build_snapshot(book, as_of)
    spread = build_snapshot_dask(book, as_of, client=client, n_partitions=4)
    assert spread.version == single.version
    for table, key in (("customers", "customer_id"), ("invoices", "invoice_id")):
        a = getattr(single, table).sort_values(key).reset_index(drop=True)
        b = getattr(spread, table).sort_values(key).reset_index(drop=True)
        assert len(a) > 0
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12)


def test_dask_on_process_workers(book: LedgerFrames) -> None:
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        spread = build_snapshot_dask(book, "2025-07-01", client=c, n_partitions=3)
    pd.testing.assert_frame_equal(spread.customers, build_snapshot(book, "2025-07-01").customers)
