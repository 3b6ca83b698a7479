"""Rule 2 and 3: the identified payer's open items by amount (one, all, oldest first, a bounded
subset), and, with no payer at all, an amount that only one open item has."""

from __future__ import annotations

import numpy as np

from arrisk.cashapp.amounts import EXACT, KIND_NAMES, NONE, TOLERANCE, spread
from arrisk.cashapp.fx import FxConversion
from arrisk.cashapp.payers import PayerEvidence
from arrisk.cashapp.proposals import Proposal, noisy_or
from arrisk.cashapp.rules_base import EPOCH_ORDINAL, RuleBase, _settle
from arrisk.cashapp.statement import StatementLine
from arrisk.cashapp.subsets import find_subsets


class CustomerRules(RuleBase):
    def _by_customer(self, line: StatementLine, paid: int, payer: PayerEvidence) -> list[Proposal]:
        proposals = self._by_customer_amount(line, paid, payer)
        start, end = self.book.customer_slices.get(payer.customer_id, (0, 0))
        cited = {p for p in self._cited if start <= p < end}
        for p in proposals:
            if cited and not cited <= set(p.positions):
                # the text names this customer's invoices and the amount points elsewhere: a guess
                p.confidence *= self.w.unexplained_amount_factor
                p.evidence["ignores_cited"] = len(cited - set(p.positions))
        return proposals

    def _by_customer_amount(self, line: StatementLine, paid: int, payer: PayerEvidence) -> list[Proposal]:
        """The payer's items in the line's currency, then (with rates) in each other currency, where
        a fit is never posted automatically without a cited number (``fx_unconfirmed_factor``)."""
        pos = self.book.customer_open(payer.customer_id, on_day=line.booking_date.toordinal() - EPOCH_ORDINAL)
        if not len(pos):
            return []
        same = pos[self.book.currency[pos] == line.currency]
        proposals = self._customer_in_currency(line, paid, payer, same) if len(same) else []
        for currency in self._other_currencies(line, pos):
            converted = self._paid_in(line, paid, currency)
            if converted is None:
                continue
            theirs = pos[self.book.currency[pos] == currency]
            for p in self._customer_in_currency(line, converted[0], payer, theirs, fx=converted[1]):
                p.confidence *= self.w.fx_unconfirmed_factor
                proposals.append(p)
        return proposals

    def _customer_in_currency(
        self,
        line: StatementLine,
        paid: int,
        payer: PayerEvidence,
        pos: np.ndarray,
        *,
        fx: FxConversion | None = None,
    ) -> list[Proposal]:
        """Rules 2 on the payer's items of one currency; ``paid`` is in that currency."""
        remaining = self.book.remaining[pos]
        days = line.booking_date.toordinal() - EPOCH_ORDINAL - self.book.issue_day[pos]
        ev = {"payer": payer.evidence}
        kinds = self.amounts.fit(remaining, paid, days=days, fx=fx is not None)
        for kind in (EXACT, TOLERANCE):
            single = np.flatnonzero(kinds == kind)
            if len(single):
                weight = self.w.amount_exact if kind == EXACT else self.w.amount_within_tolerance
                weight = min(weight, self.w.amount_fx) if fx is not None else weight
                conf = noisy_or(payer.score, weight) / len(single)
                rule = "customer_amount" if len(single) == 1 else "customer_amount_ambiguous"
                return [
                    self._proposal(
                        pos[[i]],
                        _settle(remaining[[i]], paid),
                        conf,
                        rule,
                        payer.customer_id,
                        {**ev, "amount": KIND_NAMES[kind], "candidates": len(single)},
                        max(0, paid - int(remaining[i])),
                        paid,
                        remaining[[i]],
                        fx=fx,
                    )
                    for i in single
                ]
        return self._customer_combinations(line, paid, payer, pos, remaining, ev, fx=fx)

    def _customer_combinations(
        self,
        line: StatementLine,
        paid: int,
        payer: PayerEvidence,
        pos: np.ndarray,
        remaining: np.ndarray,
        ev: dict,
        *,
        fx: FxConversion | None = None,
    ) -> list[Proposal]:
        cid = payer.customer_id
        total = int(remaining.sum())
        if len(pos) > 1 and self.amounts.fit_one(total, paid, fx=fx is not None) != NONE:
            conf = noisy_or(payer.score, self.w.customer_all_open)
            return [
                self._proposal(
                    pos,
                    _settle(remaining, paid),
                    conf,
                    "customer_all_open",
                    cid,
                    {**ev, "items": len(pos)},
                    max(0, paid - total),
                    paid,
                    remaining,
                    fx=fx,
                )
            ]
        prefix = np.cumsum(remaining)
        k = np.flatnonzero(self.amounts.fit(prefix, paid, fx=fx is not None) != NONE)
        if len(k):
            n = int(k[0]) + 1
            conf = noisy_or(payer.score, self.w.customer_oldest_first)
            return [
                self._proposal(
                    pos[:n],
                    _settle(remaining[:n], paid),
                    conf,
                    "customer_oldest_first",
                    cid,
                    {**ev, "items": n},
                    max(0, paid - int(prefix[n - 1])),
                    paid,
                    remaining[:n],
                    fx=fx,
                )
            ]
        limit = self.policy.matching.subset_max_items
        # an arbitrary combination is only evidence when it is exact: a fee window admits chance sums
        tight = (paid - self.amounts.rounding, paid + self.amounts.rounding)
        sub = find_subsets(remaining[:limit], *tight, max_nodes=self.policy.matching.subset_max_nodes)
        if sub.solutions:
            unique = len(sub.solutions) == 1 and not sub.exhausted
            conf = noisy_or(payer.score, self.w.customer_subset) / (1 if unique else 2)
            rule = "customer_subset" if unique else "customer_subset_ambiguous"
            return [
                self._proposal(
                    pos[s],
                    _settle(remaining[s], paid),
                    conf,
                    rule,
                    cid,
                    {**ev, "items": len(s)},
                    max(0, paid - int(remaining[s].sum())),
                    paid,
                    remaining[s],
                    fx=fx,
                )
                for s in sub.solutions
            ]
        if fx is not None:
            return []  # an amount that fits nothing after conversion says nothing across currencies
        alloc, left = spread(remaining, paid)
        used = alloc != 0
        conf = payer.score * self.w.customer_partial
        return [
            self._proposal(
                pos[used],
                alloc[used],
                conf,
                "customer_oldest_partial",
                cid,
                {**ev, "amount": "partial"},
                left,
                paid,
                remaining[used],
            )
        ]

    def _by_amount_only(self, line: StatementLine, paid: int) -> list[Proposal]:
        pos = self.book.with_amount(paid - self.amounts.rounding, paid + self.amounts.rounding)
        pos = pos[self.book.currency[pos] == line.currency] if len(pos) else pos
        if not len(pos):
            return self._by_amount_only_fx(line, paid)
        if len(pos) > self.policy.matching.max_suggestions:
            return []
        conf = self.w.amount_only / len(pos)
        return [
            self._proposal(
                np.array([p]),
                np.array([paid]),
                conf,
                "amount_only",
                str(self.book.customer_id[p]),
                {"amount": "exact", "candidates": len(pos)},
                0,
                paid,
                self.book.remaining[[p]],
            )
            for p in pos
        ]

    def _by_amount_only_fx(self, line: StatementLine, paid: int) -> list[Proposal]:
        """Items of another currency whose amount fits the converted line within ``fx_pct``: only
        ever suggestions, and none when too many items fit."""
        proposals: list[Proposal] = []
        others = [c for c in self._book_currencies() if c != line.currency] if self.fx is not None else []
        for currency in others:
            converted = self._paid_in(line, paid, currency)
            if converted is None:
                continue
            target, fx = converted
            slack = int(abs(target) * self.policy.tolerances.fx_pct / 100) + self.amounts.rounding
            pos = self.book.with_amount(target - slack, target + slack)
            pos = pos[self.book.currency[pos] == currency] if len(pos) else pos
            if not len(pos) or len(pos) > self.policy.matching.max_suggestions:
                continue
            conf = self.w.amount_only * self.w.fx_unconfirmed_factor / len(pos)
            for p in pos:
                remaining = self.book.remaining[[p]]
                evidence = {"amount": "within_tolerance", "candidates": len(pos)}
                alloc = _settle(remaining, target)
                left = max(0, target - int(remaining[0]))
                proposals.append(
                    self._proposal(
                        np.array([p]),
                        alloc,
                        conf,
                        "amount_only",
                        str(self.book.customer_id[p]),
                        evidence,
                        left,
                        target,
                        remaining,
                        fx=fx,
                    )
                )
        return proposals

    def _book_currencies(self) -> list[str]:
        if self._currencies is None:
            self._currencies = sorted(set(self.book.currency.tolist()))
        return self._currencies
