"""Layout helpers of the snapshot tables (``features.memory``)."""

from __future__ import annotations

import numpy as np
import pytest

from features.memory import small_pages, sorted_places, take_rows


@pytest.mark.parametrize("threads", [1, 3])
def test_take_rows_gathers_every_row_into_its_place(threads: int) -> None:
    rng = np.random.default_rng(0)
    sources = rng.normal(size=(5, 50))
    index = rng.integers(0, 50, size=200)
    out = np.full((7, 200), np.nan)
    take_rows(sources, index, out[2:], threads)
    np.testing.assert_array_equal(out[2:], sources[:, index])
    assert np.isnan(out[:2]).all()  # rows outside ``out`` untouched


def test_small_pages_restores_numpy_huge_page_advice() -> None:
    from numpy._core.multiarray import _set_madvise_hugepage  # type: ignore[attr-defined]

    before = _set_madvise_hugepage(True)
    try:
        with small_pages():
            assert _set_madvise_hugepage(False) is False  # inside: off
        assert _set_madvise_hugepage(True) is True  # after: back on
    finally:
        _set_madvise_hugepage(before)


def test_sorted_places_scatters_rows_into_key_order() -> None:
    keys = np.array([30, 10, 20, 10])
    order, place = sorted_places(keys)
    assert order.tolist() == [1, 3, 2, 0]  # stable: the first 10 first
    out = np.empty(4, dtype=int)
    out[place] = keys
    assert out.tolist() == [10, 10, 20, 30]
