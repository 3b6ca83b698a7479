"""Who paid: the customer behind a statement line, from its account, an id in the text, or its name.

Names are compared after normalisation (accents, punctuation and legal forms removed); fuzzy
comparison (rapidfuzz) only runs against customers sharing a name token, never all customers.
Bank accounts are learned from past allocations: the account that paid a customer's invoices.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

import pandas as pd
from rapidfuzz import fuzz

from arrisk.cashapp.policy import CashAppPolicy
from arrisk.cashapp.refs import customer_keys, find_customer_ids
from arrisk.cashapp.statement import StatementLine

LEGAL_FORMS = {
    "GMBH",
    "AG",
    "KG",
    "OHG",
    "UG",
    "EV",
    "LTD",
    "LIMITED",
    "INC",
    "LLC",
    "LLP",
    "CORP",
    "CORPORATION",
    "CO",
    "COMPANY",
    "SA",
    "SAS",
    "SARL",
    "BV",
    "NV",
    "PLC",
    "SRL",
    "SPA",
    "AB",
    "AS",
    "OY",
    "THE",
    "AND",
}
MAX_BLOCK = 500  # a token shared by more customers than this ('TRADING') does not narrow anything


@lru_cache(maxsize=200_000)
def normalise_name(name: str, *, keep_legal_form: bool = False) -> str:
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().upper()
    tokens = re.sub(r"[^A-Z0-9 ]", " ", text.replace("&", " ")).split()
    kept = tokens if keep_legal_form else [t for t in tokens if t not in LEGAL_FORMS]
    return " ".join(kept or tokens)


def normalise_account(account: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", account).upper()


@dataclass
class PayerEvidence:
    customer_id: str
    score: float
    evidence: list[str] = field(default_factory=list)


class PayerIndex:
    """Customers by id, by normalised name (exact and token blocks) and by bank account."""

    def __init__(
        self, customers: pd.DataFrame, *, policy: CashAppPolicy, accounts: dict[str, str] | None = None
    ):
        self.policy = policy
        ids = customers["customer_id"].astype(str).tolist()
        names = customers["name"].fillna("").astype(str).tolist() if "name" in customers else [""] * len(ids)
        self.ids = ids
        self.norm = [normalise_name(n) if n else "" for n in names]
        self.full = [normalise_name(n, keep_legal_form=True) if n else "" for n in names]
        self.by_name: dict[str, list[int]] = defaultdict(list)
        self.by_token: dict[str, list[int]] = defaultdict(list)
        for i, norm in enumerate(self.norm):
            if norm:
                self.by_name[norm].append(i)
                for token in set(norm.split()):
                    if len(token) >= 3:
                        self.by_token[token].append(i)
        self.full_ids: dict[str, str] = {}
        self.digit_ids: dict[str, str] = {}
        for cid in ids:
            full, digits = customer_keys(cid)
            if any(c.isalpha() for c in full):
                self.full_ids[full] = cid
            if digits:
                self.digit_ids[digits] = cid
        self.accounts: dict[str, str] = dict(accounts or {})
        for column in ("payer_account", "bank_account", "iban"):
            if column in customers:
                for cid, acct in zip(ids, customers[column], strict=True):
                    if isinstance(acct, str) and acct.strip():
                        self.accounts[normalise_account(acct)] = cid
        self._name_cache: dict[str, tuple[int, float] | None] = {}

    def identify(self, line: StatementLine) -> dict[str, PayerEvidence]:
        """Candidate customers of one line with the strongest evidence for each (noisy-OR of sources)."""
        weights = self.policy.evidence
        found: dict[str, PayerEvidence] = {}

        def add(cid: str, score: float, why: str) -> None:
            ev = found.setdefault(cid, PayerEvidence(cid, 0.0))
            ev.score = 1 - (1 - ev.score) * (1 - score)
            ev.evidence.append(why)

        if line.payer_account:
            cid = self.accounts.get(normalise_account(line.payer_account))
            if cid:
                add(cid, weights.payer_account, f"payer_account {line.payer_account}")
        text = " ".join(p for p in (line.remittance, line.payer_name or "") if p)
        for cid in find_customer_ids(
            text, self.full_ids, self.digit_ids, keywords=self.policy.matching.customer_keywords
        ):
            add(cid, weights.customer_id, f"customer_id {cid} in reference")
        if line.payer_name:
            hit = self._match_name(line.payer_name)
            if hit is not None:
                idx, similarity = hit
                score = (
                    weights.payer_name_exact
                    if similarity >= 100
                    else weights.payer_name_fuzzy * similarity / 100
                )
                add(self.ids[idx], score, f"payer_name {line.payer_name!r} ~ {similarity:.0f}")
        return found

    def _match_name(self, name: str) -> tuple[int, float] | None:
        if name in self._name_cache:
            return self._name_cache[name]
        norm = normalise_name(name)
        result: tuple[int, float] | None = None
        exact = self.by_name.get(norm, [])
        if len(exact) == 1:
            result = (exact[0], 100.0)
        elif not exact and norm:
            block = {
                i
                for t in set(norm.split())
                for i in self.by_token.get(t, [])[: MAX_BLOCK + 1]
                if len(self.by_token.get(t, [])) <= MAX_BLOCK
            }
            if block:
                result = self._fuzzy(name, norm, sorted(block))
        self._name_cache[name] = result
        return result

    def _fuzzy(self, name: str, norm: str, cands: list[int]) -> tuple[int, float] | None:
        """Best of the block by token-sorted similarity, with and without legal forms (a misspelt
        'Corporaton' is no legal form, so only the full names see how close it is)."""
        full = normalise_name(name, keep_legal_form=True)
        scores = [
            max(fuzz.token_sort_ratio(norm, self.norm[i]), fuzz.token_sort_ratio(full, self.full[i]))
            for i in cands
        ]
        order = sorted(range(len(cands)), key=lambda k: -scores[k])[:2]
        best = order[0]
        if scores[best] < self.policy.matching.fuzzy_name_cutoff:
            return None
        # two customers about as close are no identification at all
        if len(order) > 1 and scores[best] - scores[order[1]] < 3:
            return None
        return cands[best], float(scores[best])
