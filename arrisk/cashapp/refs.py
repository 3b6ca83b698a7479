"""Invoice numbers and customer ids found in remittance text.

An invoice number is keyed by its digits without leading zeros, so ``INV-000123``, ``inv 123`` and
``Rechnung 00123`` meet under ``123``. Text yields every digit run and every run joined to its
neighbour across one separator (``2025-00101``). A run that finds nothing is retried with one typo
undone (substitution, deletion, insertion, swapped neighbours), by lookup, never by scanning.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

import pandas as pd

_RUN = re.compile(r"\d+")
_NON_DIGIT = re.compile(r"\D")
_DIGITS = "0123456789"


def number_key(text: str) -> str:
    """The match key of one invoice number ('' where it has no digits)."""
    return _NON_DIGIT.sub("", text).lstrip("0")


def segment_key(runs: list[str]) -> str:
    """Key of a number written in digit groups, each without leading zeros: '2025-00101' -> '2025.101'."""
    return ".".join(r.lstrip("0") or "0" for r in runs)


def number_keys(numbers: pd.Series) -> pd.Series:
    """Vectorised ``number_key`` over a column of invoice numbers."""
    return numbers.astype(str).str.replace(r"\D", "", regex=True).str.lstrip("0")


def segment_keys(numbers: pd.Series) -> pd.Series:
    """``segment_key`` of numbers with two or more digit groups ('' for the rest)."""
    text = numbers.astype(str)
    out = pd.Series("", index=numbers.index, dtype=object)
    multi = text.str.contains(r"\d\D+\d", regex=True)
    if multi.any():
        out[multi] = text[multi].str.findall(r"\d+").map(segment_key)
    return out


def text_keys(text: str, *, min_digits: int) -> list[str]:
    """Candidate keys in a remittance text, in order of appearance, without repeats."""
    runs = [(m.start(), m.end(), m.group()) for m in _RUN.finditer(text)]
    keys: list[str] = []
    for i, (_, end, run) in enumerate(runs):
        keys.append(run.lstrip("0"))
        if i + 1 < len(runs) and runs[i + 1][0] - end == 1 and text[end] in "-/._ ":
            keys.append((run + runs[i + 1][2]).lstrip("0"))
            keys.append(segment_key([run, runs[i + 1][2]]))
    seen: set[str] = set()
    out = []
    for key in keys:
        if min_digits <= len(key.replace(".", "")) <= 24 and key not in seen:
            seen.add(key)
            out.append(key)
    return out


def typo_variants(key: str) -> Iterator[str]:
    """Every key one edit away (the likely keying errors of a person typing a number)."""
    n = len(key)
    for i in range(n - 1):
        if key[i] != key[i + 1]:
            yield key[:i] + key[i + 1] + key[i] + key[i + 2 :]
    for i in range(n):
        yield key[:i] + key[i + 1 :]
        for d in _DIGITS:
            if d != key[i]:
                yield key[:i] + d + key[i + 1 :]
    for i in range(n + 1):
        for d in _DIGITS:
            yield key[:i] + d + key[i:]


def find_numbers(
    text: str, index: Mapping[str, object], *, min_digits: int, typo_min_digits: int
) -> tuple[list[str], list[str], dict[str, set[str]]]:
    """Keys of ``index`` named in ``text``: exact keys, keys reached through one typo, and for each
    text key whose typo could come from several numbers, those numbers (left for the caller to narrow)."""
    exact: list[str] = []
    typos: list[str] = []
    ambiguous: dict[str, set[str]] = {}
    for key in text_keys(text, min_digits=min_digits):
        if key in index:
            exact.append(key)
        elif len(key) >= typo_min_digits and "." not in key:
            hits = one_edit_hits(key, index, min_digits=min_digits)
            if len(hits) == 1:
                typos.append(hits.pop())
            elif hits:  # one typo that could have come from two numbers proves nothing by itself
                ambiguous[key] = hits
    return exact, [t for t in typos if t not in exact], ambiguous


def one_edit_hits(key: str, index: Mapping[str, object], *, min_digits: int) -> set[str]:
    """Keys of ``index`` one keying error away from ``key``."""
    return {v for v in typo_variants(key) if len(v) >= min_digits and v in index}


def customer_keys(customer_id: str) -> tuple[str, str]:
    """(alphanumeric upper form, digit key) of a customer id: 'C-00042' -> ('C00042', '42')."""
    return re.sub(r"[^0-9A-Za-z]", "", customer_id).upper(), number_key(customer_id)


def find_customer_ids(
    text: str, full: Mapping[str, str], digits: Mapping[str, str], *, keywords: list[str]
) -> list[str]:
    """Customer ids in text: the whole id ('C00042'), or a number right after a keyword ('cust 42')."""
    found: list[str] = []
    for token in re.findall(r"[A-Za-z]+[-_ ]?\d+", text):
        alnum = re.sub(r"[^0-9A-Za-z]", "", token).upper()
        if alnum in full:
            found.append(full[alnum])
    pattern = (
        r"\b(?:"
        + "|".join(re.escape(k) for k in keywords)
        + r")\w*\.?\s*(?:no\.?|nr\.?|id|#)?\s*[:#]?\s*(\d+)"
    )
    for match in re.finditer(pattern, text, re.I):
        key = match.group(1).lstrip("0")
        if key in digits:
            found.append(digits[key])
    return list(dict.fromkeys(found))
