"""Rule 1: invoice numbers cited in the remittance text, grouped by the customer owning them."""

from __future__ import annotations

import numpy as np

from arrisk.cashapp.amounts import EXACT, KIND_NAMES, NONE, spread
from arrisk.cashapp.fx import FxConversion
from arrisk.cashapp.payers import PayerEvidence
from arrisk.cashapp.proposals import Proposal, noisy_or
from arrisk.cashapp.refs import find_numbers, one_edit_hits
from arrisk.cashapp.rules_base import EPOCH_ORDINAL, STRONG_PAYER, RuleBase
from arrisk.cashapp.statement import StatementLine
from arrisk.cashapp.subsets import find_subsets


class ReferenceRules(RuleBase):
    def _by_reference(
        self, line: StatementLine, paid: int, payers: dict[str, PayerEvidence]
    ) -> list[Proposal]:
        m = self.policy.matching
        exact, typos, ambiguous = find_numbers(
            line.remittance,
            self.book.number_index,
            min_digits=m.min_number_digits,
            typo_min_digits=m.typo_min_digits,
        )
        if not exact and not typos and not ambiguous:
            return []
        typos += self._narrow_typos(exact, ambiguous, payers)
        hits: dict[int, bool] = {}  # position -> found exactly
        for key, is_exact in [(k, True) for k in exact] + [(k, False) for k in typos]:
            for pos in self.book.number_index[key]:
                if is_exact:
                    self._cited.add(int(pos))  # settled or not: a payment citing it is not about others
                if self.book.remaining[pos] != 0:
                    hits[int(pos)] = hits.get(int(pos), False) or is_exact
        # one proposal per customer and currency; another currency only when rates convert to it
        by_customer: dict[tuple[str, str], list[int]] = {}
        for pos in sorted(hits):
            group = (str(self.book.customer_id[pos]), str(self.book.currency[pos]))
            by_customer.setdefault(group, []).append(pos)
        strong = [p for p in payers.values() if p.score >= STRONG_PAYER]
        proposals = []
        for (cid, currency), positions in by_customer.items():
            converted = self._paid_in(line, paid, currency)
            if converted is None:
                continue
            any_exact = any(hits[p] for p in positions)
            ref_score = self.w.invoice_number if any_exact else self.w.invoice_number_typo
            payer = payers.get(cid)
            evidence = {"numbers": [str(self.book.number[p]) for p in positions], "typo": not any_exact}
            if payer:
                evidence["payer"] = payer.evidence
            if strong and payer is None:
                # the number is real but the payer is someone else: not enough to post
                ref_score *= 0.3
                evidence["conflict"] = f"number of customer {cid}, payer is {strong[0].customer_id}"
            proposals.append(
                self._reference_proposal(
                    line, converted[0], cid, positions, ref_score, payer, evidence, fx=converted[1]
                )
            )
        return proposals

    def _narrow_typos(
        self, exact: list[str], ambiguous: dict[str, set[str]], payers: dict[str, PayerEvidence]
    ) -> list[str]:
        """A cited number that is nobody's, or someone else's, read as one typo away from an open
        invoice of the customers this line is about (the payer, the owners of the other numbers)."""
        index, book = self.book.number_index, self.book
        owners = {str(book.customer_id[p]) for k in exact for p in index[k] if book.remaining[p] != 0}
        about = owners | {p.customer_id for p in payers.values() if p.score >= STRONG_PAYER}
        if not about:
            return []
        retry = dict(ambiguous)
        for key in exact:
            if "." not in key and not any(str(book.customer_id[p]) in about for p in index[key]):
                retry[key] = one_edit_hits(key, index, min_digits=self.policy.matching.min_number_digits)
        found = []
        for hits in retry.values():
            ours = {
                k
                for k in hits
                for p in index[k]
                if str(book.customer_id[p]) in about and book.remaining[p] != 0
            }
            if len(ours) == 1:
                found.append(ours.pop())
        return found

    def _reference_proposal(
        self,
        line: StatementLine,
        paid: int,
        cid: str,
        positions: list[int],
        ref_score: float,
        payer: PayerEvidence | None,
        evidence: dict,
        *,
        fx: FxConversion | None = None,
    ) -> Proposal:
        """``paid`` is in the cited items' currency (converted when ``fx``)."""
        pos = np.array(positions)
        remaining = self.book.remaining[pos]
        days = line.booking_date.toordinal() - EPOCH_ORDINAL - self.book.issue_day[pos].max()
        kind = self.amounts.fit_one(int(remaining.sum()), paid, days=int(days), fx=fx is not None)
        rule = "invoice_number" + ("_typo" if evidence["typo"] else "")
        if kind == NONE and paid < remaining.sum() and len(pos) > 1:
            tight = (paid - self.amounts.rounding, paid + self.amounts.rounding)
            sub = find_subsets(remaining, *tight, max_nodes=self.policy.matching.subset_max_nodes)
            if len(sub.solutions) == 1 and not sub.exhausted:
                pos, remaining, kind = pos[sub.solutions[0]], remaining[sub.solutions[0]], EXACT
        if kind == NONE and paid > remaining.sum():
            extra = self._complete(line, paid - int(remaining.sum()), cid, exclude=pos, fx=fx is not None)
            if extra is not None:
                pos = np.concatenate([pos, extra])
                remaining, kind = self.book.remaining[pos], EXACT
                evidence["completed_by_amount"] = len(extra)
        split_factor = 1.0
        if kind != NONE:
            amount_score = self.w.amount_exact if kind == EXACT else self.w.amount_within_tolerance
            amount_score = min(amount_score, self.w.amount_fx) if fx is not None else amount_score
            evidence["amount"] = KIND_NAMES[kind]
        elif paid < remaining.sum():
            amount_score, rule, evidence["amount"] = self.w.amount_partial, rule + "_partial", "partial"
            # how a short payment splits over several cited invoices is a guess, not evidence
            split_factor = self.w.unexplained_amount_factor if len(pos) > 1 else 1.0
        else:
            # every cited invoice is settled in full; the rest stays on the customer's account. Only
            # one invoice cited by a payer we know is trusted: more often the rest was a mistyped number
            amount_score, rule, evidence["amount"] = self.w.amount_overpaid, rule + "_overpaid", "overpaid"
            trusted = len(pos) == 1 and payer is not None and payer.score >= STRONG_PAYER
            split_factor = 1.0 if trusted else self.w.unexplained_amount_factor
        alloc, left = spread(remaining, paid)
        confidence = noisy_or(ref_score, payer.score if payer else 0.0, amount_score) * split_factor
        if fx is not None and (kind == NONE or evidence["typo"]):
            # a cross-currency guess: the amount does not confirm the cited number, or the number is a typo
            confidence *= self.w.fx_unconfirmed_factor
        return self._proposal(pos, alloc, confidence, rule, cid, evidence, left, paid, remaining, fx=fx)

    def _complete(
        self, line: StatementLine, leftover: int, cid: str, *, exclude: np.ndarray, fx: bool = False
    ) -> np.ndarray | None:
        """The customer's other open items (in the cited ones' currency) that account exactly for
        what the cited ones leave over; never across currencies after an FX conversion."""
        if fx:
            return None
        others = self.book.customer_open(cid, on_day=line.booking_date.toordinal() - EPOCH_ORDINAL)
        others = others[~np.isin(others, exclude)]
        others = others[self.book.currency[others] == self.book.currency[exclude[0]]]
        if not len(others):
            return None
        rem = self.book.remaining[others]
        single = np.flatnonzero(self.amounts.fit(rem, leftover) == EXACT)
        if len(single) == 1:
            return others[single]
        if len(single) > 1:
            return None
        sub = find_subsets(
            rem[: self.policy.matching.subset_max_items],
            leftover - self.amounts.rounding,
            leftover + self.amounts.rounding,
            max_nodes=self.policy.matching.subset_max_nodes,
        )
        if len(sub.solutions) == 1 and not sub.exhausted:
            return others[sub.solutions[0]]
        return None
