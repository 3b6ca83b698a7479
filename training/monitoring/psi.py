"""Population Stability Index in numpy: the credit-risk way (reference deciles) and Evidently's binning.

PSI = sum over bins of (cur% - ref%) * ln(cur% / ref%). Credit teams bin on the reference's deciles
and read < 0.1 as stable, 0.1-0.25 as moderate, > 0.25 as a major shift. Missing values get a bin
of their own: a feature that starts coming back NaN (no paid invoice yet) is itself a shift.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Floor of a bin share, so an empty bin contributes a large but finite term.
EPSILON = 1e-4


def decile_edges(reference: np.ndarray, n_bins: int = 10) -> np.ndarray:
    """Inner bin edges: the reference's quantiles, de-duplicated (point masses keep their own bin)."""
    finite = reference[np.isfinite(reference)]
    if finite.size == 0:
        return np.empty(0)
    return np.unique(np.quantile(finite, np.linspace(0, 1, n_bins + 1)[1:-1]))


def bin_shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Share of ``values`` per right-closed bin ``(e[i-1], e[i]]`` plus one last bin for NaN."""
    finite = np.isfinite(values)
    index = np.searchsorted(edges, values[finite], side="left")
    counts = np.bincount(index, minlength=edges.size + 1).astype("float64")
    counts = np.append(counts, values.size - finite.sum())
    return counts / max(values.size, 1)


def psi_from_shares(ref: np.ndarray, cur: np.ndarray, *, epsilon: float = EPSILON) -> float:
    ref = np.maximum(ref, epsilon)
    cur = np.maximum(cur, epsilon)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def psi(reference: np.ndarray | pd.Series, current: np.ndarray | pd.Series, *, n_bins: int = 10) -> float:
    """PSI of ``current`` against ``reference`` on the reference's deciles (NaN and inf: own bin)."""
    ref = np.asarray(reference, dtype="float64")
    cur = np.asarray(current, dtype="float64")
    edges = decile_edges(ref, n_bins)
    return psi_from_shares(bin_shares(ref, edges), bin_shares(cur, edges))


def psi_table(
    reference: pd.DataFrame, current: pd.DataFrame, features: list[str], *, n_bins: int = 10
) -> pd.Series:
    """Decile PSI per feature, indexed by feature name."""
    return pd.Series(
        {name: psi(reference[name].to_numpy(), current[name].to_numpy(), n_bins=n_bins) for name in features},
        dtype="float64",
    )


def _evidently_fill(shares: np.ndarray) -> np.ndarray:
    nonzero = shares[shares != 0]
    fill = nonzero.min() / 10**6 if nonzero.min() <= 0.0001 else 0.0001
    return np.where(shares == 0, fill, shares)


def psi_evidently_binning(reference: np.ndarray | pd.Series, current: np.ndarray | pd.Series) -> float:
    """PSI exactly as Evidently 0.7 computes ``stattest='psi'`` on a numerical column.

    NaN/inf dropped; more than 20 distinct reference values: Sturges equal-width bins over both
    samples; otherwise one bin per distinct value. Used to cross-check the Evidently report.
    """
    ref = pd.Series(np.asarray(reference, dtype="float64")).replace([np.inf, -np.inf], np.nan).dropna()
    cur = pd.Series(np.asarray(current, dtype="float64")).replace([np.inf, -np.inf], np.nan).dropna()
    if ref.empty or cur.empty:
        return float("nan")
    if ref.nunique() > 20:
        edges = np.histogram_bin_edges(np.concatenate([ref.to_numpy(), cur.to_numpy()]), bins="sturges")
        ref_shares = np.histogram(ref, edges)[0] / len(ref)
        cur_shares = np.histogram(cur, edges)[0] / len(cur)
    else:
        keys = list(set(ref.unique()) | set(cur.unique()))
        ref_counts, cur_counts = ref.value_counts(), cur.value_counts()
        ref_shares = np.array([ref_counts.get(k, 0) / len(ref) for k in keys])
        cur_shares = np.array([cur_counts.get(k, 0) / len(cur) for k in keys])
    ref_shares, cur_shares = _evidently_fill(ref_shares), _evidently_fill(cur_shares)
    return float(np.sum((ref_shares - cur_shares) * np.log(ref_shares / cur_shares)))
