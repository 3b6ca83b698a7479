"""What every matching rule shares: the book, the payers, the policy, and how a proposal is built."""

from __future__ import annotations

import numpy as np

from arrisk.cashapp.amounts import AmountRules, spread
from arrisk.cashapp.book import OpenBook
from arrisk.cashapp.fx import FxConversion, FxTable
from arrisk.cashapp.payers import PayerIndex
from arrisk.cashapp.policy import CashAppPolicy, EvidenceWeights
from arrisk.cashapp.proposals import Proposal
from arrisk.cashapp.statement import StatementLine

STRONG_PAYER = 0.9
EPOCH_ORDINAL = 719163  # date(1970, 1, 1).toordinal(): the book keeps days since the epoch


class RuleBase:
    book: OpenBook
    payers: PayerIndex
    policy: CashAppPolicy
    w: EvidenceWeights
    amounts: AmountRules
    fx: FxTable | None
    _cited: set[int]
    _currencies: list[str] | None = None  # every currency in the book, for amount-only FX lookups

    def _paid_in(
        self, line: StatementLine, paid: int, currency: str
    ) -> tuple[int, FxConversion | None] | None:
        """The line's cents in ``currency``: as is when it is the line's own, else converted at the
        rates in force on the booking date; None when there is no such rate (or no rates at all)."""
        if currency == line.currency:
            return paid, None
        if self.fx is None:
            return None
        conv = self.fx.convert(paid, from_ccy=line.currency, to_ccy=currency, day=line.booking_date)
        return None if conv is None else (conv.converted, conv)

    def _other_currencies(self, line: StatementLine, positions: np.ndarray) -> list[str]:
        """Currencies of these items other than the line's; none at all without rates."""
        if self.fx is None or not len(positions):
            return []
        return sorted(set(self.book.currency[positions].tolist()) - {line.currency})

    def _proposal(
        self,
        pos: np.ndarray,
        alloc: np.ndarray,
        confidence: float,
        rule: str,
        cid: str | None,
        evidence: dict,
        left: int,
        paid: int,
        remaining: np.ndarray,
        *,
        fx: FxConversion | None = None,
    ) -> Proposal:
        """``paid``, ``alloc``, ``remaining`` and ``left`` are cents of the items' currency; with ``fx``
        the rule gets an ``_fx`` suffix, the evidence the rate, and ``left_over`` is the line's currency."""
        keep = np.asarray(alloc) != 0
        pos, alloc, remaining = np.asarray(pos)[keep], np.asarray(alloc)[keep], np.asarray(remaining)[keep]
        short = int(remaining.sum()) - int(np.sum(alloc))
        if short > 0:
            evidence = {**evidence, "short_cents": short}
        evidence["policy"] = self.policy.version
        if fx is not None:
            evidence["fx"] = fx.evidence()
            rule, left = rule + "_fx", fx.back(left) if left > 0 else left
        return Proposal(
            positions=[int(p) for p in pos],
            cents=[int(c) for c in alloc],
            confidence=min(confidence, 0.9999),
            rule=rule,
            customer_id=cid,
            evidence=evidence,
            left_over=left,
            residues=[int(r) - int(a) for r, a in zip(remaining, alloc, strict=True)],
        )


def _settle(remaining: np.ndarray, paid: int) -> np.ndarray:
    """Items settled within tolerance: the cash goes to them in order, any shortfall on the last."""
    alloc, _ = spread(remaining, paid)
    return alloc
