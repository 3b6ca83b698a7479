"""What the bank statement shows of a payment: remittance text, payer name, account and method.

Remittance text cites invoice numbers the way customers really type them: prefixes and separators
vary, leading zeros go missing, digits get swapped, several invoices share a line, and some payments
cite nothing at all. Cash application has to cope with every one of these.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from arrisk.ledger.generator import catalog as cat
from arrisk.ledger.generator import strings as s
from arrisk.ledger.generator.customers import CustomerDraw, iban, name_parts

# (prefix, zero-padded number?) ; the None prefix is the customer's word for invoice
STYLES: list[tuple[str | None, bool]] = [
    ("INV-", True), ("Inv#", False), ("INV ", True), ("invoice ", False), ("INV", True), ("", False),
    (None, False), ("inv-", True), ("Invoice no. ", False), ("#", False), ("INV-", False),
]  # fmt: skip
STYLE_MIX = np.array([0.26, 0.1, 0.08, 0.08, 0.06, 0.1, 0.1, 0.05, 0.05, 0.04, 0.08])
LOCAL_WORD = {
    "de": "Rechnung ",
    "fr": "Facture ",
    "nl": "Factuur ",
    "it": "Fattura ",
    "es": "Factura ",
    "en": "Invoice ",
}
SEPARATORS = [", ", " ", "/", "; ", " + ", " & ", ","]
LEADS = [
    "",
    "",
    "",
    "Payment ",
    "Zahlung ",
    "Paiement ",
    "RE: ",
    "Remittance ",
    "Betaling ",
    "Settlement of ",
]
NO_REFERENCE = ["PAYMENT", "Thank you", "SEE REMITTANCE ADVICE", "Monthly settlement", "Payment on account"]
SEPA_MAX = 140
TYPO_RATE = 0.04
PAYER_NAME_MIX = np.array([0.42, 0.2, 0.15, 0.1, 0.06, 0.07])


def typo_numbers(rng: np.random.Generator, numbers: np.ndarray) -> np.ndarray:
    """Swap two adjacent digits, drop one, or mistype one, in one of the last four places."""
    n = len(numbers)
    place = rng.integers(0, 4, n)
    unit, tens = 10**place, 10 ** (place + 1)
    digit, left = numbers // unit % 10, numbers // tens % 10
    kind = rng.integers(0, 3, n)
    swapped = numbers + (left - digit) * unit + (digit - left) * tens
    dropped = numbers // tens * unit + numbers % unit
    mistyped = numbers + ((digit + rng.integers(1, 10, n)) % 10 - digit) * unit
    return np.select([kind == 0, kind == 1], [swapped, dropped], mistyped)


def invoice_tokens(
    rng: np.random.Generator, numbers: np.ndarray, style: np.ndarray, language: np.ndarray
) -> pa.Array:
    """One cited invoice per allocation, in the style and language of its payment."""
    numbers = numbers.copy()
    typo = rng.random(len(numbers)) < TYPO_RATE
    numbers[typo] = typo_numbers(rng, numbers[typo])
    padded = np.array([p for _, p in STYLES])[style]
    text = s.where(padded, s.digits(numbers, 8), s.digits(numbers))
    local = [LOCAL_WORD.get(lang, "Faktura ") for lang in cat.LANGUAGES]
    prefixes = [p or "" for p, _ in STYLES] + local
    is_local = np.array([p is None for p, _ in STYLES])[style]
    return s.concat(s.pick(prefixes, np.where(is_local, len(STYLES) + language, style)), text)


def references(
    rng: np.random.Generator, *, numbers: np.ndarray, first_alloc: np.ndarray, language: np.ndarray
) -> pa.Array:
    """Remittance text per payment; ``numbers`` are the cited invoice numbers, grouped by payment."""
    n = len(first_alloc)
    counts = np.diff(np.r_[first_alloc, len(numbers)])
    style = rng.choice(len(STYLES), size=n, p=STYLE_MIX)
    tokens = invoice_tokens(rng, numbers, np.repeat(style, counts), np.repeat(language, counts))
    lists = pa.ListArray.from_arrays(pa.array(np.r_[first_alloc, len(numbers)].astype(np.int32)), tokens)
    joined = pc.binary_join(lists, s.pick(SEPARATORS, rng.integers(0, len(SEPARATORS), n)))
    text = s.concat(s.pick(LEADS, rng.integers(0, len(LEADS), n)), joined)
    po = rng.random(n) < 0.08
    text = s.where(po, s.concat(text, " PO ", s.digits(rng.integers(1000, 99999, n))), text)
    text = s.where(rng.random(n) < 0.2, pc.utf8_upper(text), text)
    text = s.where(rng.random(n) < 0.01, pc.replace_substring(text, "0", "O", max_replacements=1), text)
    nothing = rng.random(n) < 0.07
    generic = s.pick(NO_REFERENCE, rng.integers(0, len(NO_REFERENCE), n))
    text = s.where(
        nothing,
        s.where(rng.random(n) < 0.6, generic, s.concat("PO-", s.digits(rng.integers(1000, 99999, n)))),
        text,
    )
    text = pc.utf8_slice_codeunits(text, 0, SEPA_MAX)
    return s.with_nulls(text, nothing & (rng.random(n) < 0.3))


def payer_names(rng: np.random.Generator, cust: CustomerDraw, who: np.ndarray) -> pa.Array:
    """How the bank spells the customer: exact, upper case, no legal form, cut, abbreviated, typo."""
    trading, legal, full = name_parts(cust)
    noun = s.pick(cat.NAME_NOUNS, cust.words[:, 1])
    first = s.pick([w for w, _ in cat.NAME_WORDS], cust.words[:, 0])
    abbreviated = pc.binary_join_element_wise(
        first, s.concat(pc.utf8_slice_codeunits(noun, 0, 3), "."), legal, " "
    )
    swapped = s.concat(
        *(pc.utf8_slice_codeunits(full, a, b) for a, b in ((0, 1), (2, 3), (1, 2), (3, 10_000)))
    )
    variants = [
        full,
        pc.utf8_upper(full),
        trading,
        pc.utf8_slice_codeunits(pc.utf8_upper(full), 0, 18),
        abbreviated,
        swapped,
    ]
    which = rng.choice(len(variants), size=len(who), p=PAYER_NAME_MIX)
    return s.choose(variants, which, who)


def payer_accounts(rng: np.random.Generator, cust: CustomerDraw, who: np.ndarray) -> pa.Array:
    """The customer's one account, missing on some statement lines."""
    return s.with_nulls(iban(cust).take(pa.array(who.astype(np.int64))), rng.random(len(who)) < 0.08)


def methods(rng: np.random.Generator, cust: CustomerDraw, who: np.ndarray) -> pa.Array:
    usual = cust.method[who].astype(np.int64)
    other = rng.integers(0, 4, len(who))
    pick = np.where(rng.random(len(who)) < 0.9, usual, other)
    vocabulary = [m for ccy in cat.CURRENCIES for m in cat.METHODS[ccy]]
    return s.pick(vocabulary, cust.currency[who].astype(np.int64) * 4 + pick)
