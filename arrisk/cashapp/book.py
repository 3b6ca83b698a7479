"""The open items the matcher works against, indexed once: by number key, by customer, by amount.

Amounts are integer cents here so sums are exact. Items are sorted by customer, then due date, so
a customer's items are one contiguous slice, oldest first. ``remaining`` drops as lines are matched
within one statement, so two lines never settle the same euro twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from arrisk.cashapp.refs import number_keys, segment_keys


def to_cents(amounts: pd.Series | np.ndarray) -> np.ndarray:
    return np.rint(np.asarray(amounts, dtype="float64") * 100).astype("int64")


@dataclass
class OpenBook:
    item_id: np.ndarray  # invoice_id (or credit-note id for a negative item)
    customer_id: np.ndarray
    number: np.ndarray
    currency: np.ndarray
    issue_day: np.ndarray  # days since epoch
    due_day: np.ndarray
    cents: np.ndarray  # open amount when the book was built
    remaining: np.ndarray
    customer_slices: dict[str, tuple[int, int]]
    number_index: Mapping[str, np.ndarray]
    _amount_order: np.ndarray | None = None
    _sorted_cents: np.ndarray | None = None

    @classmethod
    def from_frame(cls, items: pd.DataFrame) -> OpenBook:
        """``items``: invoice_id, customer_id, invoice_number, due_date, currency and ``open_amount``
        (or ``amount``); issue_date optional. Items with nothing open are left out."""
        frame = items.copy()
        if "open_amount" not in frame or frame["open_amount"].isna().all():
            frame["open_amount"] = frame["amount"]
        frame["open_amount"] = frame["open_amount"].fillna(frame.get("amount"))
        frame = frame[frame["open_amount"].abs() >= 0.005]
        if "issue_date" not in frame:
            frame["issue_date"] = frame["due_date"]
        frame = frame.sort_values(["customer_id", "due_date", "issue_date", "invoice_id"], kind="stable")
        customer = frame["customer_id"].astype(str).to_numpy(dtype=object)
        numbers = frame["invoice_number"].fillna("").astype(str).reset_index(drop=True)
        keys = pd.concat([number_keys(numbers), segment_keys(numbers)], ignore_index=True).to_numpy()
        positions = np.concatenate([np.arange(len(numbers))] * 2)
        # an item is reachable by its digits ('202500101') and by its digit groups ('2025.101')
        number_index = _group_positions(keys, positions)
        slices: dict[str, tuple[int, int]] = {}
        if len(customer):
            starts = np.concatenate([[0], np.flatnonzero(customer[1:] != customer[:-1]) + 1])
            ends = np.append(starts[1:], len(customer))
            slices = {str(customer[s]): (int(s), int(e)) for s, e in zip(starts, ends, strict=True)}
        cents = to_cents(frame["open_amount"])
        return cls(
            item_id=frame["invoice_id"].astype(str).to_numpy(dtype=object),
            customer_id=customer,
            number=frame["invoice_number"].astype(str).to_numpy(dtype=object),
            currency=frame["currency"].astype(str).to_numpy(dtype=object),
            issue_day=_days(frame["issue_date"]),
            due_day=_days(frame["due_date"]),
            cents=cents,
            remaining=cents.copy(),
            customer_slices=slices,
            number_index=number_index,
        )

    def __len__(self) -> int:
        return len(self.item_id)

    def customer_open(self, customer_id: str, *, on_day: int | None = None) -> np.ndarray:
        """Positions of a customer's items still open (issued by ``on_day``), oldest due first."""
        start, end = self.customer_slices.get(customer_id, (0, 0))
        rem, cents = self.remaining[start:end], self.cents[start:end]
        keep = (rem != 0) & (np.sign(rem) == np.sign(cents))
        if on_day is not None:
            keep &= self.issue_day[start:end] <= on_day
        return start + np.flatnonzero(keep)

    def with_amount(self, lo: int, hi: int) -> np.ndarray:
        """Positions of items (any customer) whose open amount lies in [lo, hi] cents, still open."""
        if self._amount_order is None or self._sorted_cents is None:
            self._amount_order = np.argsort(self.cents, kind="stable")
            self._sorted_cents = self.cents[self._amount_order]
        a, b = np.searchsorted(self._sorted_cents, [lo, hi + 1])
        pos = self._amount_order[a:b]
        return pos[self.remaining[pos] == self.cents[pos]]


class NumberIndex(Mapping[str, np.ndarray]):
    """key -> positions holding it, built by hash factorisation and one argsort (no per-key arrays)."""

    def __init__(self, keys: np.ndarray, positions: np.ndarray):
        codes, uniques = pd.factorize(keys)
        order = np.argsort(codes, kind="stable")
        self._bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
        self._held = positions[order]
        self._code = dict(zip(uniques.tolist(), range(len(uniques)), strict=True))
        self._code.pop("", None)

    def __getitem__(self, key: str) -> np.ndarray:
        code = self._code[key]
        return self._held[self._bounds[code] : self._bounds[code + 1]]

    def __contains__(self, key: object) -> bool:
        return key in self._code

    def __iter__(self) -> Iterator[str]:
        return iter(self._code)

    def __len__(self) -> int:
        return len(self._code)


def _group_positions(keys: np.ndarray, positions: np.ndarray) -> NumberIndex:
    return NumberIndex(keys, positions)


def _days(dates: pd.Series) -> np.ndarray:
    values = pd.to_datetime(dates).to_numpy(dtype="datetime64[D]")
    return values.astype("int64")
