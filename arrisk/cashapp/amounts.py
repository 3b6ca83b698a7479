"""Does a payment settle a total? Exact (to the rounding tolerance), short by a bank fee, less an
early-payment discount, or off by an FX difference: all from the policy's tolerances."""

from __future__ import annotations

import numpy as np

from arrisk.cashapp.policy import Tolerances

NONE, EXACT, TOLERANCE = 0, 1, 2
KIND_NAMES = {EXACT: "exact", TOLERANCE: "within_tolerance"}


class AmountRules:
    def __init__(self, tolerances: Tolerances):
        self.t = tolerances
        self.rounding = int(round(float(tolerances.rounding) * 100))
        self.fee_abs = int(round(float(tolerances.bank_fee_abs) * 100))
        self.over_abs = int(round(float(tolerances.overpayment_abs) * 100))

    def fee_cap(self, totals: np.ndarray) -> np.ndarray:
        return np.maximum(self.fee_abs, np.rint(np.abs(totals) * self.t.bank_fee_pct / 100)).astype("int64")

    def window(self, paid: int, *, fx: bool = False) -> tuple[int, int]:
        """Range of totals a payment of ``paid`` cents may settle (discounts aside)."""
        slack = int(paid * self.t.fx_pct / 100) if fx else 0
        hi = paid + max(self.fee_abs, int(paid * self.t.bank_fee_pct / 100)) + slack + self.rounding
        return paid - self.over_abs - self.rounding - slack, hi

    def fit(
        self, totals: np.ndarray, paid: int, *, days: np.ndarray | None = None, fx: bool = False
    ) -> np.ndarray:
        """Per total: EXACT, TOLERANCE (bank fee, small overpayment, discount, FX) or NONE."""
        totals = np.asarray(totals, dtype="int64")
        diff = paid - totals
        out = np.where(np.abs(diff) <= self.rounding, EXACT, NONE)
        within = ((diff < 0) & (-diff <= self.fee_cap(totals))) | ((diff > 0) & (diff <= self.over_abs))
        if fx:
            within |= np.abs(diff) <= np.abs(totals) * self.t.fx_pct / 100
        for discount in self.t.early_payment_discounts:
            expected = np.rint(totals * (1 - discount.pct / 100))
            in_time = np.ones(len(totals), bool) if days is None else days <= discount.days
            within |= (np.abs(paid - expected) <= self.rounding + 1) & in_time
        return np.where(out == EXACT, EXACT, np.where(within, TOLERANCE, NONE))

    def fit_one(self, total: int, paid: int, *, days: int | None = None, fx: bool = False) -> int:
        d = None if days is None else np.array([days])
        return int(self.fit(np.array([total]), paid, days=d, fx=fx)[0])


def spread(remaining: np.ndarray, paid: int) -> tuple[np.ndarray, int]:
    """Cash over items: credit notes first (they add to what is available), then oldest first.

    Returns the cents allocated per item and what is left over (a credit on account)."""
    alloc = np.zeros(len(remaining), dtype="int64")
    left = paid
    negatives = remaining < 0
    alloc[negatives] = remaining[negatives]
    left -= int(remaining[negatives].sum())
    for i in np.flatnonzero(~negatives):
        take = min(int(remaining[i]), left)
        if take <= 0:
            break
        alloc[i] = take
        left -= take
    return alloc, left
