"""What every matching rule shares: the book, the payers, the policy, and how a proposal is built."""

from __future__ import annotations

import numpy as np

from arrisk.cashapp.amounts import AmountRules, spread
from arrisk.cashapp.book import OpenBook
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
    _cited: set[int]

    def _same_currency(self, pos: int, line: StatementLine) -> bool:
        return self.book.currency[pos] == line.currency

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
    ) -> Proposal:
        keep = np.asarray(alloc) != 0
        pos, alloc, remaining = np.asarray(pos)[keep], np.asarray(alloc)[keep], np.asarray(remaining)[keep]
        short = int(remaining.sum()) - int(np.sum(alloc))
        if short > 0:
            evidence = {**evidence, "short_cents": short}
        evidence["policy"] = self.policy.version
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
