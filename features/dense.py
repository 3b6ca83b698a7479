"""The SQL engine's customer families whose groups are dense integer keys, aggregated in NumPy.

Activity (invoices by customer), allocations (by customer), multi-invoice payments (by payment) and
exposure (open invoices by customer) group millions of rows by a row number: ``crow`` runs over the
customers file, ``prow`` over the payments file. A ``np.bincount`` into an array indexed by that
number is a plain pass over the rows; DuckDB's hash aggregate of the same rows costs several times
the CPU (the activity family at a million customers: 0.36 s of CPU against 1.4 s, measured side by
side on the same cut). The rows come out of the cut's tables (``features.sql_engine``), so the leak
guard is the cut's; the features and their empty-group values are the SQL families' own:

* a sum over no rows (or only NULL amounts) is 0 where the feature is ``coalesce(sum, 0)``, and NaN
  where it feeds a ratio that SQL would leave NULL;
* ``_ratio``: NaN where the denominator is not positive;
* ``least``/``greatest`` skip a missing value (``np.fmin``/``np.fmax``).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from features.catalogue import _bucket_names
from features.config import FeatureConfig

# the SQL query's columns these families read besides their own rows (``crow`` order)
SQL_INPUTS = {
    "created": "created",  # the customer's creation day (tenure)
    "last_payment": "last_payment",  # the latest payment day (days since the last payment)
    "n_disputed": "coalesce(n_disputed, 0)",  # invoices disputed (dispute rate)
}
# the cut's rows each family reads: table -> columns
ROWS = {
    "i": ("crow", "issue", "amount"),
    "a": ("crow", "prow", "irow", "applied", "amount", "inv_amount"),
    "opened": ("crow", "due", "open_amount"),
}


def dense_feature_names(config: FeatureConfig) -> list[str]:
    """The customer features computed here (the others come from SQL)."""
    ws = config.activity_windows_days
    names = [
        "open_amount", "overdue_amount", "n_open_invoices", "n_overdue_invoices", "oldest_days_past_due",
        "credit_utilisation", f"due_next_{config.due_soon_days}d_amount", "share_overdue",
        *(name for name, _ in _bucket_names(config)),
    ]  # fmt: skip
    for w in ws:
        names += [f"invoiced_amount_{w}d", f"n_invoices_{w}d", f"paid_amount_{w}d"]
    names += [f"invoiced_growth_{w}d" for w in ws[:-1]]
    names += ["tenure_days", "days_since_last_invoice", "days_since_last_payment", "n_invoices",
              "invoice_amount_mean", "share_partial_allocations", "share_multi_invoice_payments",
              "dispute_rate"]  # fmt: skip
    return names


def fetch_rows(con) -> dict[str, dict[str, np.ndarray]]:  # type: ignore[no-untyped-def]
    """The rows of ``ROWS`` as NumPy arrays: a missing amount or date as NaN (sums skip it, as the
    pandas engine's do), a payment not in the book as ``prow`` -1."""
    out = {}
    for table, columns in ROWS.items():
        select = ", ".join(_fetched(c) for c in columns)
        out[table] = dict(con.sql(f"SELECT {select} FROM {table}").fetchnumpy())
    return out


def _fetched(column: str) -> str:
    if column in ("crow", "irow", "issue", "applied"):  # never NULL in the cut's tables
        return column
    if column == "prow":
        return "coalesce(prow, -1) AS prow"
    return f"coalesce({column}, 'NaN'::DOUBLE) AS {column}"


def aggregate(
    rows: dict[str, dict[str, np.ndarray]], a: float, config: FeatureConfig, n: int
) -> dict[str, np.ndarray]:
    """Each family's raw aggregates, arrays of length ``n`` indexed by ``crow``."""
    sums = _Sums(n)
    for chunk in _chunks(rows["i"]):
        _activity(sums, chunk, a, config)
    for chunk in _chunks(rows["a"]):
        _allocations(sums, chunk, a, config)
    for chunk in _chunks(rows["opened"]):
        _exposure(sums, chunk, a, config)
    out = sums.done()
    if "missing_inv" in out:  # a sum of no amounts is NULL
        out["s_inv"][out.pop("missing_inv") == out["n_inv"]] = np.nan
    out.update(_multi(rows["a"], n))
    return out


# rows per pass: a pass's temporaries (masks, the keys and amounts it picks) stay a few MB, so the
# allocator hands the same memory back chunk after chunk instead of fresh pages to zero
CHUNK_ROWS = 1 << 20


def _chunks(rows: dict[str, np.ndarray]) -> Iterator[dict[str, np.ndarray]]:
    """Slices of ``CHUNK_ROWS`` rows."""
    size = len(rows["crow"])
    for start in range(0, size, CHUNK_ROWS):
        yield {k: v[start : start + CHUNK_ROWS] for k, v in rows.items()}


class _Sums:
    """Sums, counts and extremes per key (arrays of length ``n``), added up chunk by chunk."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.out: dict[str, np.ndarray] = {}
        self.extremes: set[str] = set()

    def add(
        self, name: str, keys: np.ndarray, where: np.ndarray | None = None, weights: np.ndarray | None = None
    ) -> None:
        """Add the ``weights`` (1 without) of the rows ``where`` holds to their keys' ``name``
        (``np.add.at`` into the total: no array of length ``n`` per call, as ``np.bincount`` makes)."""
        if where is not None:
            keys = keys[where]
            weights = None if weights is None else weights[where]
        if name not in self.out:
            self.out[name] = np.zeros(self.n)
        np.add.at(self.out[name], keys, 1.0 if weights is None else weights)

    def extreme(self, name: str, keys: np.ndarray, values: np.ndarray, largest: bool) -> None:
        """max (or min) of ``values`` per key; NaN where a key has no rows."""
        if name not in self.out:
            self.out[name] = np.full(self.n, -np.inf if largest else np.inf)
            self.extremes.add(name)
        (np.maximum if largest else np.minimum).at(self.out[name], keys, values)

    def done(self) -> dict[str, np.ndarray]:
        for name in self.extremes:
            values = self.out[name]
            values[np.isinf(values)] = np.nan
        return self.out


def _summable(values: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Values with NaN as 0 for a sum that skips a missing value, and the mask of the missing ones
    (None: none is)."""
    missing = np.isnan(values)
    if not missing.any():
        return values, None
    return np.where(missing, 0.0, values), missing


def _activity(sums: _Sums, rows: dict[str, np.ndarray], a: float, config: FeatureConfig) -> None:
    crow, issue = rows["crow"], rows["issue"]
    amount, missing = _summable(rows["amount"])
    age = a - issue
    for w in config.activity_windows_days:
        within = age < w
        sums.add(f"inv_{w}", crow, within, amount)
        sums.add(f"n_{w}", crow, within)
    for w in config.activity_windows_days[:-1]:
        sums.add(f"before_{w}", crow, (age >= w) & (age < 2 * w), amount)
    sums.add("n_inv", crow)
    sums.add("s_inv", crow, None, amount)
    if missing is not None:
        sums.add("missing_inv", crow, missing)
    sums.extreme("first_issue", crow, issue, largest=False)
    sums.extreme("last_issue", crow, issue, largest=True)


def _allocations(sums: _Sums, rows: dict[str, np.ndarray], a: float, config: FeatureConfig) -> None:
    crow, applied = rows["crow"], rows["applied"]
    amount, _ = _summable(rows["amount"])
    for w in config.activity_windows_days:
        sums.add(f"paid_{w}", crow, a - applied < w, amount)
    sums.extreme("last_applied", crow, applied, largest=True)
    sums.add("n_alloc", crow)
    with np.errstate(invalid="ignore"):
        sums.add("n_partial", crow, rows["amount"] < config.partial_payment_share * rows["inv_amount"])


def _exposure(sums: _Sums, rows: dict[str, np.ndarray], a: float, config: FeatureConfig) -> None:
    crow, open_amount = rows["crow"], rows["open_amount"]
    dpd = a - rows["due"]  # NaN without a due date: in no bucket, and oldest 0
    with np.errstate(invalid="ignore"):
        overdue = dpd > 0
        sums.add("open", crow, None, open_amount)
        sums.add("overdue", crow, overdue, open_amount)
        sums.add("n_open", crow)
        sums.add("n_overdue", crow, overdue)
        sums.add("due_soon", crow, (dpd <= 0) & (dpd >= -config.due_soon_days), open_amount)
        edges = config.aging_bucket_edges_days
        bounds = [(None, 0), *zip([0, *edges[:-1]], edges, strict=True), (edges[-1], None)]
        for j, (lo, hi) in enumerate(bounds):
            inside = np.ones(len(dpd), dtype=bool)
            if lo is not None:
                inside &= dpd > lo
            if hi is not None:
                inside &= dpd <= hi
            sums.add(f"b{j}", crow, inside, open_amount)
    if "oldest" not in sums.out:
        sums.out["oldest"] = np.zeros(sums.n)  # no open invoice: 0
    np.maximum.at(sums.out["oldest"], crow, np.fmax(dpd, 0.0))


def _multi(rows: dict[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    """Payments (known ones) of each customer, and those of them that cover several invoices: a
    payment counts once per customer whose invoices it pays."""
    size = int(rows["prow"].max()) + 1 if len(rows["prow"]) else 0
    one_crow = np.empty(size, dtype=rows["crow"].dtype)  # one of each payment's customers, and invoices
    one_irow = np.empty(size, dtype=rows["irow"].dtype)
    seen = np.zeros(size, dtype=bool)
    for chunk in _chunks(rows):
        known = chunk["prow"] >= 0
        prow = chunk["prow"][known]
        one_crow[prow], one_irow[prow], seen[prow] = chunk["crow"][known], chunk["irow"][known], True
    several = np.zeros(size, dtype=bool)
    for chunk in _chunks(rows):
        known = chunk["prow"] >= 0
        prow, irow = chunk["prow"][known], chunk["irow"][known]
        if not np.array_equal(one_crow[prow], chunk["crow"][known]):
            return _multi_by_pair(rows, n)  # a payment paying several customers
        several[prow[irow != one_irow[prow]]] = True
    payer = one_crow[seen]
    return {
        "n_pay": np.bincount(payer, minlength=n).astype("float64"),
        "n_multi": np.bincount(payer[several[seen]], minlength=n).astype("float64"),
    }


def _multi_by_pair(rows: dict[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    """``_multi`` grouped by (payment, customer), by sorting: for books where a payment pays the
    invoices of several customers."""
    known = rows["prow"] >= 0
    key = rows["prow"][known].astype("int64") * max(n, 1) + rows["crow"][known]
    order = np.argsort(key, kind="stable")
    key, irow, crow = key[order], rows["irow"][known][order], rows["crow"][known][order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, dtype=np.intp)
    several = starts > 0  # (empty)
    if len(key):
        several = np.maximum.reduceat(irow, starts) != np.minimum.reduceat(irow, starts)
    payer = crow[starts]
    return {
        "n_pay": np.bincount(payer, minlength=n).astype("float64"),
        "n_multi": np.bincount(payer[several], minlength=n).astype("float64"),
    }


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, NaN where den is not positive (SQL's ``_ratio``)."""
    out = np.full(len(num), np.nan)
    with np.errstate(invalid="ignore"):
        positive = den > 0
    np.divide(num, den, out=out, where=positive)
    return out


def features(
    raw: dict[str, np.ndarray], sql: dict[str, np.ndarray], a: float, config: FeatureConfig
) -> dict[str, np.ndarray]:
    """The features of ``dense_feature_names`` from ``raw`` aggregates and the SQL query's
    ``SQL_INPUTS`` columns, all arrays over the same customers in the same order."""
    c, ws = config, config.activity_windows_days
    out = {
        "open_amount": raw["open"],
        "overdue_amount": raw["overdue"],
        "n_open_invoices": raw["n_open"],
        "n_overdue_invoices": raw["n_overdue"],
        "oldest_days_past_due": raw["oldest"],
        "credit_utilisation": _ratio(raw["open"], sql["credit_limit"]),
        f"due_next_{c.due_soon_days}d_amount": raw["due_soon"],
        "share_overdue": _ratio(raw["overdue"], raw["open"]),
    }
    for j, (name, _) in enumerate(_bucket_names(c)):
        out[name] = raw[f"b{j}"]
    for w in ws:
        out[f"invoiced_amount_{w}d"] = raw[f"inv_{w}"]
        out[f"n_invoices_{w}d"] = raw[f"n_{w}"]
        out[f"paid_amount_{w}d"] = raw[f"paid_{w}"]
    for w in ws[:-1]:
        out[f"invoiced_growth_{w}d"] = _ratio(raw[f"inv_{w}"], raw[f"before_{w}"]) - 1
    out["tenure_days"] = a - np.fmin(raw["first_issue"], sql["created"])
    out["days_since_last_invoice"] = a - raw["last_issue"]
    out["days_since_last_payment"] = a - np.fmax(sql["last_payment"], raw["last_applied"])
    out["n_invoices"] = raw["n_inv"]
    out["invoice_amount_mean"] = _ratio(raw["s_inv"], raw["n_inv"])
    out["share_partial_allocations"] = _ratio(raw["n_partial"], raw["n_alloc"])
    out["share_multi_invoice_payments"] = _ratio(raw["n_multi"], raw["n_pay"])
    out["dispute_rate"] = _ratio(sql["n_disputed"], raw["n_inv"])
    return out
