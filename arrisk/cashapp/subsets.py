"""Bounded subset sum: which of a customer's open items add up to a payment, within tolerance.

Depth-first over items sorted by size with suffix-sum pruning, under a node budget, looking for
two solutions: one proves a combination exists, the second that it is ambiguous. Credit notes
(negative items) are few, so every subset of them is tried as a fixed part.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

MAX_CREDIT_NOTES = 6


@dataclass
class SubsetResult:
    solutions: list[list[int]]  # indices into the input array
    exhausted: bool  # budget ran out: a single solution is then not proven unique


def find_subsets(
    cents: np.ndarray, lo: int, hi: int, *, max_nodes: int, max_solutions: int = 2
) -> SubsetResult:
    """Subsets of ``cents`` whose sum lies in [lo, hi]."""
    negatives = [int(i) for i in np.flatnonzero(cents < 0)[:MAX_CREDIT_NOTES]]
    positives = np.flatnonzero(cents > 0)
    order = positives[np.argsort(-cents[positives], kind="stable")]
    values = cents[order].tolist()
    suffix = np.concatenate([np.cumsum(values[::-1])[::-1], [0]]).tolist() if values else [0]
    state = {"budget": max_nodes}
    solutions: list[list[int]] = []

    def dfs(start: int, need_lo: int, need_hi: int, chosen: list[int]) -> None:
        for j in range(start, len(values)):
            if len(solutions) >= max_solutions or state["budget"] <= 0:
                return
            if suffix[j] < need_lo:
                return
            value = values[j]
            if value > need_hi:
                continue
            state["budget"] -= 1
            chosen.append(j)
            if need_lo <= value <= need_hi:
                solutions.append([int(order[k]) for k in chosen])
            else:
                dfs(j + 1, need_lo - value, need_hi - value, chosen)
            chosen.pop()

    for size in range(len(negatives) + 1):
        for fixed in combinations(negatives, size):
            credit = int(sum(cents[list(fixed)])) if fixed else 0
            before = len(solutions)
            dfs(0, lo - credit, hi - credit, [])
            for sol in solutions[before:]:
                sol.extend(fixed)
            if len(solutions) >= max_solutions:
                return SubsetResult(solutions, state["budget"] <= 0)
    return SubsetResult(solutions, state["budget"] <= 0)
