"""The leak guard: cut a ledger down to what was known on an as-of date, once, before any feature.

Every feature function reads an ``AsOfBook`` and nothing else, so a fact dated after the as-of date
cannot reach a feature. Ids become integer codes (positions in the customer and invoice tables) and
amounts are converted to the base currency at the latest rate known on the as-of date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from arrisk.ledger.frames import LedgerFrames

DAY = np.timedelta64(1, "D")


@dataclass
class AsOfBook:
    """The ledger as known at the end of ``as_of``; frames use ``cust``/``inv`` integer codes."""

    as_of: pd.Timestamp
    customer_ids: pd.Index  # cust code -> customer_id
    customers: pd.DataFrame  # cust, payment_terms_days, credit_limit, created_at
    invoice_ids: pd.Index  # inv code -> invoice_id
    invoices: pd.DataFrame  # inv, cust, issue_date, due_date, amount
    allocations: pd.DataFrame  # inv, cust, pay, amount, applied_at
    payments: pd.DataFrame  # pay, cust (-1 unknown), payment_date, amount
    credit_notes: pd.DataFrame  # inv (-1 none), cust, issue_date, amount
    disputes: pd.DataFrame  # inv, cust, opened_at, resolved_at (NaT = open on as_of), amount
    promises: pd.DataFrame  # cust, created_at, promised_date, amount
    write_offs: pd.DataFrame  # inv, cust, date, amount
    dunning: pd.DataFrame  # inv, cust, level, event_date
    plans: pd.DataFrame  # cust, created_at, broken (bool, broken on or before as_of)


def to_timestamp(as_of: date | pd.Timestamp | str) -> pd.Timestamp:
    """The as-of date as a midnight Timestamp; facts dated on it are known, later ones are not."""
    return pd.Timestamp(as_of).normalize()


def codes(index: pd.Index, values: pd.Series) -> np.ndarray:
    """Positions of ``values`` in ``index`` (-1 where absent); categorical input maps categories only."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        per_category = np.append(index.get_indexer(values.cat.categories), -1)
        return per_category[values.cat.codes.to_numpy()]  # code -1 (NaN) picks the appended -1
    return index.get_indexer(values)


def fx_rates_as_of(fx_rates: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """Units of base currency per unit of each currency: the latest rate dated on or before as_of.

    A currency with no rate by then takes its earliest rate (reference data, not a ledger event).
    """
    if fx_rates.empty:
        return pd.Series(dtype="float64")
    ordered = fx_rates.sort_values("rate_date")
    known = ordered[ordered["rate_date"] <= as_of].groupby("currency", observed=True)["rate_to_base"].last()
    first = ordered.groupby("currency", observed=True)["rate_to_base"].first()
    rates = first.copy()
    rates.loc[known.index] = known
    rates.index = rates.index.astype(str)
    return rates.astype("float64")


def _rate(currency: pd.Series | None, rates: pd.Series, length: int) -> np.ndarray:
    if currency is None or rates.empty:
        return np.ones(length)
    mapped = (
        currency.astype(str).map(rates)
        if not isinstance(currency.dtype, pd.CategoricalDtype)
        else (currency.map(rates).astype("float64"))
    )
    return mapped.fillna(1.0).to_numpy(dtype="float64")


def _col(frame: pd.DataFrame, name: str) -> pd.Series | None:
    return frame[name] if name in frame.columns else None


class IdMap:
    """Ids of one kind -> codes of the rows kept on the as-of date (-1 where unknown or dropped).

    Fast path: when a column is categorical with the very categories of the id table (as the
    feature loader writes them), its category codes are the row positions, no string hashing.
    """

    def __init__(self, ids: pd.Series, keep: np.ndarray) -> None:
        self._ids = ids
        self._categories = None
        if isinstance(ids.dtype, pd.CategoricalDtype):
            positions = ids.cat.codes.to_numpy()
            if len(ids.cat.categories) == len(ids) and (positions == np.arange(len(ids))).all():
                self._categories = ids.cat.categories
        self._index: pd.Index | None = None
        self.remap = np.full(len(ids) + 1, -1, dtype="int64")  # the last slot answers position -1
        self.remap[np.flatnonzero(keep)] = np.arange(int(keep.sum()))

    def __call__(self, values: pd.Series) -> np.ndarray:
        if (
            self._categories is not None
            and isinstance(values.dtype, pd.CategoricalDtype)
            and values.cat.categories is self._categories
        ):
            positions = values.cat.codes.to_numpy()
        else:
            if self._index is None:
                self._index = pd.Index(np.asarray(self._ids, dtype=object))
            positions = codes(self._index, values)
        return self.remap[positions]


def clip_book(frames: LedgerFrames, as_of: date | pd.Timestamp | str) -> AsOfBook:
    """Drop every fact dated after ``as_of`` and encode ids; the only door from frames to features."""
    as_of = to_timestamp(as_of)
    rates = fx_rates_as_of(frames.fx_rates, as_of)
    customers, customer_ids, cust_map = _customers(frames.customers, as_of, rates)
    if len(frames.credit_limits):
        customers["credit_limit"] = _limits_as_of(
            frames.credit_limits, as_of, cust_map, rates, len(customers)
        )
    invoices, invoice_ids, inv_ccy, inv_map = _invoices(frames.invoices, as_of, cust_map, rates)
    inv_cust = invoices["cust"].to_numpy()
    pay_map = IdMap(frames.payments["payment_id"], np.ones(len(frames.payments), bool))
    return AsOfBook(
        as_of=as_of,
        customer_ids=customer_ids,
        customers=customers,
        invoice_ids=invoice_ids,
        invoices=invoices,
        allocations=_allocations(frames.allocations, as_of, inv_map, inv_cust, inv_ccy, pay_map),
        payments=_payments(frames.payments, as_of, cust_map, rates),
        credit_notes=_credit_notes(frames.credit_notes, as_of, cust_map, inv_map, inv_cust, rates),
        disputes=_disputes(frames.disputes, as_of, inv_map, inv_cust, inv_ccy),
        promises=_promises(frames.promises, as_of, cust_map, rates),
        write_offs=_write_offs(frames.write_offs, as_of, inv_map, inv_cust, inv_ccy),
        dunning=_dunning(frames.dunning_events, as_of, inv_map, inv_cust),
        plans=_plans(frames.payment_plans, as_of, cust_map),
    )


def _customers(
    frame: pd.DataFrame, as_of: pd.Timestamp, rates: pd.Series
) -> tuple[pd.DataFrame, pd.Index, IdMap]:
    created = _col(frame, "created_at")
    keep = np.ones(len(frame), bool) if created is None else ~(created > as_of).to_numpy()
    kept = frame[keep]
    ids = id_index(kept["customer_id"], "customer_id")
    limit = kept["credit_limit"].to_numpy(dtype="float64") * _rate(_col(kept, "currency"), rates, len(kept))
    out = pd.DataFrame(
        {
            "cust": np.arange(len(kept), dtype="int64"),
            "payment_terms_days": kept["payment_terms_days"].to_numpy(dtype="float64"),
            "credit_limit": limit,
            "created_at": created[keep].to_numpy() if created is not None else pd.NaT,
        }
    )
    out["created_at"] = out["created_at"].astype("datetime64[ns]")
    return out, ids, IdMap(frame["customer_id"], keep)


def _limits_as_of(
    history: pd.DataFrame, as_of: pd.Timestamp, cust_map: IdMap, rates: pd.Series, n: int
) -> np.ndarray:
    """Credit limit in force on ``as_of`` per customer code, from the limit history.

    The latest change dated on or before ``as_of`` (NaT: in force from the customer's start; ties
    keep the later row). A customer whose changes all come later had a limit nobody recorded: NaN.
    Only a book with no history at all falls back to the customer master (``_customers``).
    """
    cust = cust_map(history["customer_id"])
    when = history["effective_date"]
    known = (cust >= 0) & ~(when > as_of).to_numpy()
    rows = history[known]
    amount = rows["credit_limit"].to_numpy(dtype="float64") * _rate(_col(rows, "currency"), rates, len(rows))
    out = np.full(n, np.nan)
    # NaT sorts first (start of time); stable, so among equal dates the later row is written last
    order = np.argsort(rows["effective_date"].to_numpy(dtype="datetime64[ns]").view("int64"), kind="stable")
    out[cust[known][order]] = amount[order]
    return out


def id_index(ids: pd.Series, name: str) -> pd.Index:
    """The ids of kept rows as an Index; categoricals are read through their categories (no object copy)."""
    if isinstance(ids.dtype, pd.CategoricalDtype) and not ids.isna().any():
        return ids.cat.categories.take(ids.cat.codes.to_numpy()).rename(name)
    return pd.Index(np.asarray(ids, dtype=object), name=name)


def _rows(frame: pd.DataFrame, mask: np.ndarray, columns: list[str]) -> pd.DataFrame:
    """The needed columns of the rows in ``mask`` (copying only those columns)."""
    return frame[[c for c in columns if c in frame.columns]][mask]


def _invoices(
    frame: pd.DataFrame, as_of: pd.Timestamp, cust_map: IdMap, rates: pd.Series
) -> tuple[pd.DataFrame, pd.Index, np.ndarray, IdMap]:
    cust_all = cust_map(frame["customer_id"])
    keep = (frame["issue_date"] <= as_of).to_numpy() & (cust_all >= 0)
    kept = _rows(frame, keep, ["invoice_id", "issue_date", "due_date", "amount", "currency"])
    rate = _rate(_col(kept, "currency"), rates, len(kept))
    out = pd.DataFrame(
        {
            "inv": np.arange(len(kept), dtype="int64"),
            "cust": cust_all[keep],
            "issue_date": kept["issue_date"].to_numpy(),
            "due_date": kept["due_date"].to_numpy(),
            "amount": kept["amount"].to_numpy(dtype="float64") * rate,
        }
    )
    ids = id_index(kept["invoice_id"], "invoice_id")
    return out, ids, rate, IdMap(frame["invoice_id"], keep)


def _allocations(
    frame: pd.DataFrame,
    as_of: pd.Timestamp,
    inv_map: IdMap,
    inv_cust: np.ndarray,
    inv_rate: np.ndarray,
    pay_map: IdMap,
) -> pd.DataFrame:
    keep = (frame["applied_at"] <= as_of).to_numpy()
    reversed_at = _col(frame, "reversed_at")
    if reversed_at is not None:
        keep &= ~(reversed_at <= as_of).to_numpy()  # a reversal after as_of was not yet known
    kept = _rows(frame, keep, ["payment_id", "invoice_id", "amount", "applied_at"])
    inv = inv_map(kept["invoice_id"])
    kept, inv = kept[inv >= 0], inv[inv >= 0]
    return pd.DataFrame(
        {
            "inv": inv,
            "cust": inv_cust[inv],
            "pay": pay_map(kept["payment_id"]),
            "amount": kept["amount"].to_numpy(dtype="float64") * inv_rate[inv],
            "applied_at": kept["applied_at"].to_numpy(),
        }
    )


def _payments(frame: pd.DataFrame, as_of: pd.Timestamp, cust_map: IdMap, rates: pd.Series) -> pd.DataFrame:
    keep = (frame["payment_date"] <= as_of).to_numpy()
    kept = _rows(frame, keep, ["customer_id", "payment_date", "amount", "currency"])
    cust_col = _col(kept, "customer_id")
    return pd.DataFrame(
        {
            "pay": np.flatnonzero(keep).astype("int64"),
            "cust": cust_map(cust_col) if cust_col is not None else np.full(len(kept), -1),
            "payment_date": kept["payment_date"].to_numpy(),
            "amount": kept["amount"].to_numpy(dtype="float64")
            * _rate(_col(kept, "currency"), rates, len(kept)),
        }
    )


def _credit_notes(
    frame: pd.DataFrame,
    as_of: pd.Timestamp,
    cust_map: IdMap,
    inv_map: IdMap,
    inv_cust: np.ndarray,
    rates: pd.Series,
) -> pd.DataFrame:
    keep = (frame["issue_date"] <= as_of).to_numpy()
    kept = _rows(frame, keep, ["customer_id", "invoice_id", "issue_date", "amount", "currency"])
    inv = inv_map(kept["invoice_id"]) if "invoice_id" in kept else np.full(len(kept), -1)
    cust = cust_map(kept["customer_id"])
    cust = np.where(inv >= 0, inv_cust[np.maximum(inv, 0)] if len(inv_cust) else -1, cust)
    out = pd.DataFrame(
        {
            "inv": inv,
            "cust": cust,
            "issue_date": kept["issue_date"].to_numpy(),
            "amount": kept["amount"].to_numpy(dtype="float64")
            * _rate(_col(kept, "currency"), rates, len(kept)),
        }
    )
    return out[out["cust"] >= 0].reset_index(drop=True)


def _by_invoice(
    frame: pd.DataFrame, keep: np.ndarray, columns: list[str], inv_map: IdMap
) -> tuple[pd.DataFrame, np.ndarray]:
    kept = _rows(frame, keep, ["invoice_id", *columns])
    inv = inv_map(kept["invoice_id"])
    return kept[inv >= 0], inv[inv >= 0]


def _disputes(
    frame: pd.DataFrame, as_of: pd.Timestamp, inv_map: IdMap, inv_cust: np.ndarray, inv_rate: np.ndarray
) -> pd.DataFrame:
    keep = (frame["opened_at"] <= as_of).to_numpy()
    kept, inv = _by_invoice(frame, keep, ["opened_at", "resolved_at", "amount"], inv_map)
    resolved = _col(kept, "resolved_at")
    resolved = (
        resolved.where(resolved <= as_of) if resolved is not None else pd.Series(pd.NaT, index=kept.index)
    )
    amount = _col(kept, "amount")
    amount = (
        pd.to_numeric(amount, errors="coerce") if amount is not None else pd.Series(np.nan, index=kept.index)
    )
    return pd.DataFrame(
        {
            "inv": inv,
            "cust": inv_cust[inv],
            "opened_at": kept["opened_at"].to_numpy(),
            "resolved_at": resolved.to_numpy(dtype="datetime64[ns]"),
            "amount": amount.to_numpy(dtype="float64") * inv_rate[inv],
        }
    )


def _promises(frame: pd.DataFrame, as_of: pd.Timestamp, cust_map: IdMap, rates: pd.Series) -> pd.DataFrame:
    keep = (frame["created_at"] <= as_of).to_numpy()
    kept = _rows(frame, keep, ["customer_id", "created_at", "promised_date", "amount", "currency"])
    cust = cust_map(kept["customer_id"])
    kept, cust = kept[cust >= 0], cust[cust >= 0]
    return pd.DataFrame(
        {
            "cust": cust,
            "created_at": kept["created_at"].to_numpy(),
            "promised_date": kept["promised_date"].to_numpy(),
            "amount": kept["amount"].to_numpy(dtype="float64")
            * _rate(_col(kept, "currency"), rates, len(kept)),
        }
    )


def _write_offs(
    frame: pd.DataFrame, as_of: pd.Timestamp, inv_map: IdMap, inv_cust: np.ndarray, inv_rate: np.ndarray
) -> pd.DataFrame:
    keep = (frame["date"] <= as_of).to_numpy()
    status = _col(frame, "status")
    if status is not None:
        keep &= status.isna().to_numpy() | (status == "approved").to_numpy()
    kept, inv = _by_invoice(frame, keep, ["date", "amount"], inv_map)
    return pd.DataFrame(
        {
            "inv": inv,
            "cust": inv_cust[inv],
            "date": kept["date"].to_numpy(),
            "amount": kept["amount"].to_numpy(dtype="float64") * inv_rate[inv],
        }
    )


def _dunning(frame: pd.DataFrame, as_of: pd.Timestamp, inv_map: IdMap, inv_cust: np.ndarray) -> pd.DataFrame:
    keep = (frame["event_date"] <= as_of).to_numpy()
    status = _col(frame, "status")
    if status is not None:
        keep &= status.isna().to_numpy() | (status == "sent").to_numpy()
    kept, inv = _by_invoice(frame, keep, ["level", "event_date"], inv_map)
    return pd.DataFrame(
        {
            "inv": inv,
            "cust": inv_cust[inv],
            "level": kept["level"].to_numpy(dtype="float64"),
            "event_date": kept["event_date"].to_numpy(),
        }
    )


def _plans(frame: pd.DataFrame, as_of: pd.Timestamp, cust_map: IdMap) -> pd.DataFrame:
    """Payment plans made by as_of; a plan counts as broken only if ``broken_at`` is on or before as_of."""
    keep = (frame["created_at"] <= as_of).to_numpy()
    kept = _rows(frame, keep, ["customer_id", "created_at", "broken_at"])
    cust = cust_map(kept["customer_id"])
    kept, cust = kept[cust >= 0], cust[cust >= 0]
    broken_at = _col(kept, "broken_at")
    broken = (broken_at <= as_of).to_numpy() if broken_at is not None else np.zeros(len(kept), bool)
    return pd.DataFrame({"cust": cust, "created_at": kept["created_at"].to_numpy(), "broken": broken})
