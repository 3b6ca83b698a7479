"""The matcher: statement lines against the open book, one proposal list per line.

Order of rules: invoice numbers in the text first (grouped by the customer owning them), then the
identified payer's open items by amount (one item, all open, oldest first, a bounded subset), then
amount alone. A proposal at or above the policy's threshold, with no rival as strong, is applied
and its items' open amounts drop for the lines after it. Nothing here scans all invoices per line.

Items in another currency than the line are considered only with exchange rates (``fx``): the
line is converted at the rates in force on its booking date, its amount may differ by ``fx_pct``,
and such a proposal is posted only when it cites the invoice number and its amount fits.
"""

from __future__ import annotations

from arrisk.cashapp.amounts import AmountRules
from arrisk.cashapp.book import OpenBook
from arrisk.cashapp.customer_rules import CustomerRules
from arrisk.cashapp.fx import FxTable
from arrisk.cashapp.payers import PayerEvidence, PayerIndex
from arrisk.cashapp.policy import CashAppPolicy
from arrisk.cashapp.proposals import LineMatch, LineStatus, Proposal
from arrisk.cashapp.reference_rules import ReferenceRules
from arrisk.cashapp.rules_base import EPOCH_ORDINAL, STRONG_PAYER  # noqa: F401  (re-exported)
from arrisk.cashapp.statement import StatementLine


class Matcher(ReferenceRules, CustomerRules):
    def __init__(
        self,
        book: OpenBook,
        payers: PayerIndex,
        *,
        policy: CashAppPolicy,
        rule_stats: dict[str, tuple[int, int]] | None = None,
        fx: FxTable | None = None,
    ):
        """``fx``: rates for lines in another currency than an invoice; None considers only
        same-currency invoices."""
        self.book = book
        self.payers = payers
        self.policy = policy
        self.w = policy.evidence
        self.amounts = AmountRules(policy.tolerances)
        self.rule_stats = rule_stats or {}
        self.fx = fx

    def match(self, lines: list[StatementLine]) -> list[LineMatch]:
        """Match lines in statement order; automatic ones reduce the book for the lines after."""
        return [self.match_line(line) for line in lines]

    def match_line(self, line: StatementLine) -> LineMatch:
        if not line.is_credit:
            return LineMatch(line, LineStatus.DEBIT)
        paid = int(round(line.amount * 100))
        payers = self.payers.identify(line)
        self._cited: set[int] = set()
        proposals = self._by_reference(line, paid, payers)
        if not any(p.confidence >= self.policy.auto_apply_threshold for p in proposals):
            ranked = sorted(payers.values(), key=lambda p: -p.score)[:2]
            for payer in ranked:
                proposals += self._by_customer(line, paid, payer)
        if all("fx" in p.evidence for p in proposals):
            # cross-currency guesses do not stop the search for an invoice in the line's own currency
            proposals += self._by_amount_only(line, paid)
        return self._decide(line, proposals, payers)

    # -- decisions ----------------------------------------------------------------------------

    def _decide(
        self, line: StatementLine, proposals: list[Proposal], payers: dict[str, PayerEvidence]
    ) -> LineMatch:
        for p in proposals:
            p.confidence = round(self._calibrated(p.rule, p.confidence), 4)
        best: dict[tuple[tuple[int, int], ...], Proposal] = {}
        for p in sorted(proposals, key=lambda p: -p.confidence):
            best.setdefault(p.key, p)
        ranked = [p for p in best.values() if p.confidence >= self.policy.suggestion_floor]
        ranked = ranked[: self.policy.matching.max_suggestions]
        top_payer = max(payers.values(), key=lambda p: p.score).customer_id if payers else None
        if not ranked:
            return LineMatch(line, LineStatus.UNAPPLIED, customer_id=top_payer)
        threshold = self.policy.auto_apply_threshold
        rival = len(ranked) > 1 and ranked[1].confidence >= threshold
        if ranked[0].confidence >= threshold and not rival:
            self._apply(ranked[0])
            return LineMatch(line, LineStatus.AUTO, ranked, customer_id=ranked[0].customer_id)
        return LineMatch(line, LineStatus.SUGGESTED, ranked, customer_id=top_payer)

    def _apply(self, proposal: Proposal) -> None:
        for pos, cents in zip(proposal.positions, proposal.cents, strict=True):
            self.book.remaining[pos] -= cents

    def _calibrated(self, rule: str, confidence: float) -> float:
        """Pull a rule's confidence towards its measured precision on past automatic postings."""
        n, correct = self.rule_stats.get(rule, (0, 0))
        if n < self.policy.learning.min_history:
            return confidence
        k = self.policy.learning.prior_weight
        return (correct + k * confidence) / (n + k)

    # -- rules ----------------------------------------------------------------------------------
