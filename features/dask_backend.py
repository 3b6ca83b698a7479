"""Scale-out: the same ``build_snapshot`` on a Dask cluster, one task per hash partition of customers.

Every feature depends only on its own customer's rows (plus the shared fx rates), so cutting the
book by customer and concatenating the per-partition snapshots gives the single-machine result.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from arrisk.ledger.frames import LedgerFrames
from features.asof import to_timestamp
from features.config import FeatureConfig
from features.pipeline import build_snapshot, feature_version
from features.snapshot_io import Snapshot

if TYPE_CHECKING:
    from distributed import Client


def customer_partition(customer_ids: pd.Series, n_partitions: int) -> np.ndarray:
    """Stable partition number per customer id (the same on every machine and run)."""
    hashed = pd.util.hash_pandas_object(customer_ids.astype(str), index=False).to_numpy()
    return (hashed % np.uint64(n_partitions)).astype("int64")


def _part_of(ids: pd.Series, owner: pd.Series) -> np.ndarray:
    """Partition of each id through a mapping id -> partition (-1 where unknown)."""
    return ids.map(owner).fillna(-1).to_numpy(dtype="int64")


def partition_frames(frames: LedgerFrames, n_partitions: int) -> list[LedgerFrames]:
    """Split a book into ``n_partitions`` books, each holding all facts of its customers."""
    return split_by_customer(
        frames, customer_partition(frames.customers["customer_id"], n_partitions), n_partitions
    )


def split_by_customer(frames: LedgerFrames, partition: np.ndarray, n_partitions: int) -> list[LedgerFrames]:
    """One book per partition number, given per customer row (-1: in no book), each holding every fact
    of its customers: invoices and what hangs off them, promises, plans, limits, and the payments
    allocated to their invoices or paid by them. FX rates are kept whole."""
    cust_part = pd.Series(
        np.asarray(partition, dtype="int64"), index=frames.customers["customer_id"].astype(str).to_numpy()
    )
    inv = frames.invoices
    inv_part = pd.Series(
        _part_of(inv["customer_id"].astype(str), cust_part), index=inv["invoice_id"].astype(str).to_numpy()
    )
    alloc_part = _part_of(frames.allocations["invoice_id"].astype(str), inv_part)
    notes = frames.credit_notes
    by_invoice = _part_of(notes["invoice_id"].astype(str), inv_part) if "invoice_id" in notes else -1
    notes_part = np.where(by_invoice >= 0, by_invoice, _part_of(notes["customer_id"].astype(str), cust_part))
    parts_by_table = {
        "customers": cust_part.to_numpy(),
        "invoices": inv_part.to_numpy(),
        "allocations": alloc_part,
        "credit_notes": notes_part,
        "disputes": _part_of(frames.disputes["invoice_id"].astype(str), inv_part),
        "write_offs": _part_of(frames.write_offs["invoice_id"].astype(str), inv_part),
        "dunning_events": _part_of(frames.dunning_events["invoice_id"].astype(str), inv_part),
        "promises": _part_of(frames.promises["customer_id"].astype(str), cust_part),
        "payment_plans": _part_of(frames.payment_plans["customer_id"].astype(str), cust_part),
        "credit_limits": _part_of(frames.credit_limits["customer_id"].astype(str), cust_part),
    }
    pay_ids = frames.payments["payment_id"].astype(str)
    pay_own = (
        _part_of(frames.payments["customer_id"].astype(str), cust_part)
        if "customer_id" in frames.payments
        else None
    )
    out = []
    for p in range(n_partitions):
        tables = {
            name: getattr(frames, name)[part == p].reset_index(drop=True)
            for name, part in parts_by_table.items()
        }
        allocated = set(tables["allocations"]["payment_id"].astype(str))
        keep = pay_ids.isin(allocated).to_numpy() | (pay_own == p if pay_own is not None else False)
        out.append(replace(frames, payments=frames.payments[keep].reset_index(drop=True), **tables))
    return out


def _in_input_order(frame: pd.DataFrame, column: str, order: pd.Index) -> pd.DataFrame:
    position = order.get_indexer(frame[column].astype(str))
    return frame.iloc[np.argsort(position, kind="stable")].reset_index(drop=True)


def build_snapshot_dask(
    frames: LedgerFrames,
    as_of: date | pd.Timestamp | str,
    *,
    client: Client,
    n_partitions: int | None = None,
    config: FeatureConfig | None = None,
) -> Snapshot:
    """``build_snapshot`` mapped over customer partitions on ``client``; rows in the input's order."""
    as_of = to_timestamp(as_of)
    n_partitions = n_partitions or max(1, 2 * len(client.nthreads()))
    parts = client.scatter(partition_frames(frames, n_partitions))
    futures = client.map(build_snapshot, parts, as_of=as_of, config=config, pure=False)
    snapshots: list[Snapshot] = client.gather(futures)
    customers = pd.concat([s.customers for s in snapshots], ignore_index=True)
    invoices = pd.concat([s.invoices for s in snapshots], ignore_index=True)
    return Snapshot(
        as_of=as_of,
        customers=_in_input_order(
            customers, "customer_id", pd.Index(frames.customers["customer_id"].astype(str))
        ),
        invoices=_in_input_order(invoices, "invoice_id", pd.Index(frames.invoices["invoice_id"].astype(str))),
        version=feature_version(config),
    )
