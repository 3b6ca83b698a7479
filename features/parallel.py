"""The feature build on every core of one machine: an already clipped book, cut by customer code range.

Every feature depends only on its own customer's rows, so each worker process takes a contiguous
range of customer codes, cuts its own part of the ``AsOfBook`` (``book_part``: its customers, their
invoices and everything hanging off them, re-coded) and runs ``features_of_book`` on it. The parts
come back in customer order; open invoices are put back in invoice-code order, so the snapshot is
the one ``snapshot_of_book`` builds in one process, row for row (tested).

Workers are forked: the book is shared copy-on-write and the feature blocks are written into
anonymous shared memory, so nothing big is pickled either way. Where ``fork`` is not available, or
the book is small, it runs in this process.
"""

from __future__ import annotations

import mmap
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

import numpy as np
import pandas as pd

from features.asof import AsOfBook
from features.memory import sorted_places

# Below this many customers a second process costs more than it saves.
MIN_CUSTOMERS_PER_WORKER = 100_000
MAX_WORKERS = 8
# On 2 cores the build of 1M customers took 11 s on 2 workers against 14.4-15.7 s in one process,
# for 7.3 GB of memory (PSS of the tree) against 4.4 GB: not worth it by default; from 4 cores on.
MIN_CORES = 4

# what the forked workers read: the book and the shared output blocks (set only around a pool)
_SHARED: tuple[AsOfBook, np.ndarray, list[np.ndarray]] | None = None


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def default_workers(n_customers: int) -> int:
    """One worker per core (at most ``MAX_WORKERS``) on a machine of ``MIN_CORES`` or more, each with
    enough customers to pay off; otherwise one process (``--workers`` chooses otherwise)."""
    if "fork" not in multiprocessing.get_all_start_methods() or cores() < MIN_CORES:
        return 1
    return max(1, min(cores(), MAX_WORKERS, n_customers // MIN_CUSTOMERS_PER_WORKER))


def customer_ranges(n_customers: int, workers: int) -> list[tuple[int, int]]:
    edges = np.linspace(0, n_customers, workers + 1).round().astype("int64")
    return [(int(lo), int(hi)) for lo, hi in zip(edges[:-1], edges[1:], strict=True) if hi > lo]


def book_part(book: AsOfBook, lo: int, hi: int) -> tuple[AsOfBook, np.ndarray]:
    """The part of ``book`` of customer codes ``lo <= cust < hi``, re-coded from 0, and the book's
    invoice code of each of the part's invoices. Payment codes are kept (they only group allocations);
    payments of no known customer are left out (no feature reads them)."""
    invoices = book.invoices
    inv_cust = invoices["cust"].to_numpy()
    global_inv = np.flatnonzero((inv_cust >= lo) & (inv_cust < hi))
    remap = np.full(len(invoices) + 1, -1, dtype="int64")  # the last slot answers code -1
    remap[global_inv] = np.arange(len(global_inv))

    def mine(frame: pd.DataFrame) -> pd.DataFrame:
        cust = frame["cust"].to_numpy()
        part = frame[(cust >= lo) & (cust < hi)].reset_index(drop=True)
        part["cust"] = part["cust"].to_numpy() - lo
        if "inv" in part.columns:
            part["inv"] = remap[part["inv"].to_numpy()]
        return part

    customers = book.customers.iloc[lo:hi].reset_index(drop=True)
    customers["cust"] = customers["cust"].to_numpy() - lo
    part = replace(
        book,
        customer_ids=book.customer_ids[lo:hi],
        customers=customers,
        invoice_ids=book.invoice_ids[global_inv],
        invoices=mine(invoices),
        allocations=mine(book.allocations),
        payments=mine(book.payments),
        credit_notes=mine(book.credit_notes),
        disputes=mine(book.disputes),
        promises=mine(book.promises),
        write_offs=mine(book.write_offs),
        dunning=mine(book.dunning),
        plans=mine(book.plans),
    )
    return part, global_inv


def _shared(shape: tuple[int, int]) -> np.ndarray:
    """A float64 array in anonymous shared memory: written by a forked worker, read here. Pages are
    only backed once written, so a generous bound costs address space, not memory."""
    size = max(int(np.prod(shape)), 1) * 8
    return np.frombuffer(mmap.mmap(-1, size), dtype="float64", count=int(np.prod(shape))).reshape(shape)


def _build_part(index: int, lo: int, hi: int, config):  # type: ignore[no-untyped-def]
    """In a worker: the features of one customer range, written into the shared blocks; returns the
    book's invoice code of each open-invoice row (names and ids are known to the parent)."""
    from features.pipeline import features_of_book

    assert _SHARED is not None
    book, customer_block, invoice_blocks = _SHARED
    part, global_inv = book_part(book, lo, hi)
    customers, invoices, open_codes = features_of_book(part, config)
    customer_block[:, lo:hi] = customers.iloc[:, 1:].to_numpy().T
    invoice_blocks[index][:, : len(invoices)] = invoices.iloc[:, 2:].to_numpy().T
    return global_inv[open_codes]


def build_in_parallel(book: AsOfBook, config, workers: int):  # type: ignore[no-untyped-def]
    """``features_of_book`` of ``book`` over ``workers`` forked processes: (customers, invoices)."""
    from features.pipeline import customer_feature_names, invoice_feature_names

    global _SHARED
    ranges = customer_ranges(len(book.customer_ids), workers)
    per_customer = np.bincount(book.invoices["cust"].to_numpy(), minlength=len(book.customer_ids))
    capacity = [int(per_customer[lo:hi].sum()) for lo, hi in ranges]
    customer_names, invoice_names = customer_feature_names(config), invoice_feature_names(config)
    customer_block = _shared((len(customer_names), len(book.customer_ids)))
    invoice_blocks = [_shared((len(invoice_names), cap)) for cap in capacity]
    _SHARED = (book, customer_block, invoice_blocks)
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(len(ranges), mp_context=context) as pool:
            futures = [pool.submit(_build_part, i, lo, hi, config) for i, (lo, hi) in enumerate(ranges)]
            parts = [f.result() for f in futures]
    finally:
        _SHARED = None
    customers = pd.DataFrame(customer_block.T, columns=customer_names, copy=False)
    customers.insert(0, "customer_id", book.customer_ids.to_numpy())
    codes = np.concatenate(parts)
    order, position = sorted_places(codes)
    block = np.empty((len(invoice_names), len(codes)), dtype="float64")
    start = 0
    for part_codes, shared in zip(parts, invoice_blocks, strict=True):
        block[:, position[start : start + len(part_codes)]] = shared[:, : len(part_codes)]
        start += len(part_codes)
    invoices = pd.DataFrame(block.T, columns=invoice_names, copy=False)
    cust = book.invoices["cust"].to_numpy()[codes[order]]
    invoices.insert(0, "customer_id", book.customer_ids.to_numpy()[cust])
    invoices.insert(0, "invoice_id", np.asarray(book.invoice_ids.take(codes[order]), dtype=object))
    return customers, invoices
