"""Vectorised text building on Arrow arrays (ids, vocabulary picks), so millions of rows stay in C++."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def digits(numbers: np.ndarray, width: int = 0) -> pa.Array:
    """Integers as decimal text, left-padded with zeros to ``width``."""
    text = pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string())
    return pc.utf8_lpad(text, width=width, padding="0") if width else text


def ids(prefix: str, ordinals: np.ndarray, width: int) -> pa.Array:
    """Ids such as ``C0000042`` from 1-based ordinals."""
    return concat(prefix, digits(ordinals, width))


def concat(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of arrays and scalars, no separator."""
    return pc.binary_join_element_wise(*parts, "")


def pick(vocabulary: list[str], index: np.ndarray) -> pa.Array:
    """``vocabulary[index]`` for each row, as an Arrow string array."""
    return pa.array(vocabulary, pa.string()).take(pa.array(np.asarray(index, dtype=np.int64)))


def choose(variants: list[pa.Array], which: np.ndarray, rows: np.ndarray) -> pa.Array:
    """Row i gets ``variants[which[i]][rows[i]]``; all variants have the same length."""
    size = len(variants[0])
    stacked = pa.concat_arrays([v.cast(pa.string()) for v in variants])
    return stacked.take(pa.array(which.astype(np.int64) * size + rows.astype(np.int64)))


def where(mask: np.ndarray, if_true: pa.Array | str, if_false: pa.Array | str) -> pa.Array:
    return pc.if_else(pa.array(mask, pa.bool_()), if_true, if_false)


def with_nulls(values: pa.Array, missing: np.ndarray) -> pa.Array:
    """``values`` with nulls where ``missing`` is True."""
    return pc.if_else(pa.array(missing, pa.bool_()), pa.scalar(None, pa.string()), values)


def money(cents: np.ndarray) -> pa.Array:
    """Integer cents as float64 amounts (the interchange format's money type inside frames)."""
    return pa.array(np.asarray(cents, dtype=np.int64) / 100.0, pa.float64())
