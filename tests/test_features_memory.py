"""Layout helpers of the snapshot tables (``features.memory``)."""

from __future__ import annotations

import numpy as np
import pytest

from features.memory import small_pages, take_rows


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
