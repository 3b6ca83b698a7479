"""First touch of fresh memory: the feature tables are written once, so small pages win.

NumPy asks the kernel for transparent huge pages on every large array (``madvise(MADV_HUGEPAGE)``).
On this kind of machine the kernel then zeroes (and may compact) 2 MiB at a time on first touch:
writing a fresh 1 GiB float64 block took 0.93-1.15 s with huge pages against 0.40-0.41 s without
(measured here, numpy 2.3). A snapshot writes a fresh customer block and an open-invoice block of
every customer feature, written once and read in column order, so huge pages buy nothing back.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np


@contextmanager
def small_pages() -> Iterator[None]:
    """NumPy arrays made inside the block are not advised onto huge pages (restored afterwards)."""
    try:
        from numpy._core.multiarray import _set_madvise_hugepage  # type: ignore[attr-defined]
    except ImportError:  # another NumPy layout: leave it as it is
        yield
        return
    before = _set_madvise_hugepage(False)
    try:
        yield
    finally:
        _set_madvise_hugepage(before)


def take_rows(
    sources: Sequence[np.ndarray] | np.ndarray, index: np.ndarray, out: np.ndarray, threads: int
) -> None:
    """``out[j] = sources[j][index]`` for every j, on ``threads`` threads (NumPy's take releases the
    GIL). ``index`` must hold valid positions: ``mode="clip"`` writes straight into ``out``, where the
    default ``mode="raise"`` would first write a buffer as large as it."""
    from concurrent.futures import ThreadPoolExecutor

    def one(j: int) -> None:
        np.take(sources[j], index, out=out[j], mode="clip")

    if threads <= 1 or len(sources) < 2:
        for j in range(len(sources)):
            one(j)
        return
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(len(sources))))


def sorted_places(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The stable sort ``order`` of ``keys`` and its inverse ``place``: row k goes to ``place[k]``,
    so ``out[place] = values`` lays rows out in key order (a scatter, where a take needs the values
    whole)."""
    order = np.argsort(keys, kind="stable")  # runs of sorted rows: timsort
    place = np.empty_like(order)
    place[order] = np.arange(len(order))
    return order, place
