"""The SQL engine's customer families whose groups are dense integer keys, added up in NumPy.

Activity (invoices by customer), allocations (by customer), multi-invoice payments (by payment),
exposure (open invoices by customer), lateness (paid invoices by customer, latest first) and the
median invoice amount group millions of rows by a row number: ``crow`` runs over the customers file,
``prow`` over the payments file. ``np.add.at`` into an array indexed by that number is a plain pass
over the rows, and on rows DuckDB has sorted by customer a group is a slice (``np.add.reduceat``);
DuckDB's hash aggregates, window and median of the same rows cost more CPU (at a million customers,
measured side by side on the same cut: the activity family 0.44-0.53 s against 1.4 s; the lateness
family 1.3 s for DuckDB's sort plus 0.5 s in NumPy against 2.4 s for its window and aggregate).
The rows come out of the cut's tables (``features.sql_engine``), so the leak guard is the cut's;
the features and their empty-group values are the SQL families' own:

* a sum over no rows (or only missing amounts) is 0 where the feature is ``coalesce(sum, 0)``, and
  NaN where it feeds a ratio that SQL would leave NULL;
* ``_ratio``: NaN where the denominator is not positive;
* ``least``/``greatest`` skip a missing value (``np.fmin``/``np.fmax``).

Fresh memory is costly here: the kernel zeroes every new page (the lateness pass took 1.0-1.2 s with
314k page faults over whole arrays, 0.5 s with 44k in chunks), so the passes run over chunks of rows
and the features are written straight into the customer block.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd

from features.behaviour import _invoices_per_payment
from features.catalogue import _bucket_names
from features.config import FeatureConfig

# the SQL query's columns these families read besides their own rows (``crow`` order)
SQL_INPUTS = {
    "created": "created",  # the customer's creation day (tenure)
    "last_payment": "last_payment",  # the latest payment day (days since the last payment)
    "n_disputed": "coalesce(n_disputed, 0)",  # invoices disputed (dispute rate)
}
# the cut's rows each family reads: table -> (columns, order). The invoices come sorted by customer
# and amount (the median per customer), the paid invoices by customer and then latest first (the
# last N invoices): DuckDB's sort of the rows costs less than its median or window per customer
ROWS: dict[str, tuple[tuple[str, ...], str]] = {
    "i": (("crow", "issue", "amount"), "ORDER BY crow, amount"),
    "a": (("crow", "prow", "irow", "applied", "amount", "inv_amount"), ""),
    "opened": (("crow", "due", "open_amount"), ""),
    "paid": (("crow", "late", "amount", "to_pay"), "ORDER BY crow, settled DESC, irow DESC"),
}


def dense_feature_names(config: FeatureConfig) -> list[str]:
    """The customer features computed here (the others come from SQL)."""
    ws = config.activity_windows_days
    n, x = config.last_n_invoices, config.late_thresholds_days
    names = [
        "n_paid_invoices", "days_late_mean", "days_late_wmean", "days_late_max", f"days_late_last{n}_mean",
        "days_late_trend", "days_to_pay_mean", "days_to_pay_std", *(f"share_late_over_{d}d" for d in x),
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


def fetch(con, table: str) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    """The rows of ``table`` that ``ROWS`` names, as NumPy arrays: a missing amount or date as NaN
    (sums skip it, as SQL's ``sum`` does), a payment not in the book as ``prow`` -1."""
    columns, order = ROWS[table]
    select = ", ".join(_fetched(c) for c in columns)
    return dict(con.sql(f"SELECT {select} FROM {table} {order}").fetchnumpy())


def _fetched(column: str) -> str:
    if column in ("crow", "irow", "issue", "applied"):  # never NULL in the cut's tables
        return column
    if column == "prow":
        return "coalesce(prow, -1) AS prow"
    return f"coalesce({column}, 'NaN'::DOUBLE) AS {column}"


def aggregate(
    rows: Callable[[str], dict[str, np.ndarray]], a: float, config: FeatureConfig, n: int
) -> dict[str, np.ndarray]:
    """The activity, allocation, multi-invoice and exposure aggregates, arrays of length ``n``
    indexed by ``crow``. ``rows(table)`` gives a table's rows (``fetch``); each is asked for once, the
    invoices last (they come sorted)."""
    sums = _Sums(n)
    allocations = rows("a")
    for chunk in _chunks(allocations):
        _allocations(sums, chunk, a, config)
    multi = _multi(allocations, n)
    del allocations
    for chunk in _chunks(rows("opened")):
        _exposure(sums, chunk, a, config)
    for chunk in _chunks(rows("i")):
        _activity(sums, chunk, a, config)
    out = sums.done()
    if "missing_inv" in out:  # a sum of no amounts is NULL
        out["s_inv"][out.pop("missing_inv") == out["n_inv"]] = np.nan
    out.update(multi)
    return out


def sorted_invoices(con, n: int) -> tuple[dict[str, np.ndarray], np.ndarray]:  # type: ignore[no-untyped-def]
    """The invoices' rows (sorted by customer and amount) and the median amount per customer."""
    rows = fetch(con, "i")
    return rows, _median(rows, n)


def lateness(con, config: FeatureConfig, n: int) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    """The lateness aggregates per customer (``crow``), from the paid invoices."""
    return _lateness(fetch(con, "paid"), config, n)


# rows per pass: a pass's temporaries (masks, the keys and amounts it picks) stay a few MB, so the
# allocator hands the same memory back chunk after chunk instead of fresh pages to zero
CHUNK_ROWS = 1 << 20


def _chunks(rows: dict[str, np.ndarray]) -> Iterator[dict[str, np.ndarray]]:
    """Slices of ``CHUNK_ROWS`` rows; no rows: one empty slice (a family's sums of nothing exist)."""
    size = len(rows["crow"])
    for start in range(0, max(size, 1), CHUNK_ROWS):
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
    return _payment_counts(payer, several[seen], n)


def _multi_by_pair(rows: dict[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    """``_multi`` by (payment, customer) pair, as the pandas engine groups them: for books where a
    payment pays the invoices of several customers."""
    alloc = pd.DataFrame({"pay": rows["prow"], "inv": rows["irow"], "cust": rows["crow"]}, copy=False)
    n_invoices = int(rows["irow"].max()) + 1 if len(rows["irow"]) else 0
    return _payment_counts(*_invoices_per_payment(alloc, n_invoices), n)


def _payment_counts(payer: np.ndarray, several: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """Per customer: payments (one customer each in ``payer``), and those covering several invoices."""
    return {
        "n_pay": np.bincount(payer, minlength=n).astype("float64"),
        "n_multi": np.bincount(payer[several], minlength=n).astype("float64"),
    }


def _groups(crow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows sorted by ``crow``: each group's first row and its number of rows."""
    starts = np.flatnonzero(np.r_[True, crow[1:] != crow[:-1]]) if len(crow) else np.zeros(0, np.intp)
    return starts, np.diff(np.r_[starts, len(crow)])


def _median(rows: dict[str, np.ndarray], n: int) -> np.ndarray:
    """The median amount per customer (missing amounts skipped), from rows sorted by (crow, amount)
    with missing amounts last."""
    crow, amount = rows["crow"], rows["amount"]
    out = np.full(n, np.nan)
    starts, _ = _groups(crow)
    if not len(starts):
        return out
    k = np.add.reduceat((~np.isnan(amount)).astype(np.intp), starts)
    some = k > 0
    lo = starts[some] + (k[some] - 1) // 2
    hi = starts[some] + k[some] // 2
    out[crow[starts[some]]] = (amount[lo] + amount[hi]) / 2
    return out


def _lateness(rows: dict[str, np.ndarray], config: FeatureConfig, n: int) -> dict[str, np.ndarray]:
    """The lateness aggregates per customer from its paid invoices, latest first (sorted by crow,
    then settlement day and invoice row descending), in chunks of whole customers."""
    crow = rows["crow"]
    starts, k = _groups(crow)
    at = np.searchsorted(starts, np.arange(0, len(crow), CHUNK_ROWS))  # the first customer from there
    bounds = np.unique(np.r_[starts[at[at < len(starts)]], len(crow)])
    out: dict[str, np.ndarray] = {}
    # no paid invoice at all: one empty chunk, so that every aggregate exists (0 or NaN)
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=False) if len(crow) else [(0, 0)]:
        first, last = np.searchsorted(starts, [lo, hi])
        chunk = {name: rows[name][lo:hi] for name in ("late", "amount", "to_pay")}
        per_group = _lateness_of(chunk, starts[first:last] - lo, k[first:last], config)
        keys = crow[starts[first:last]]
        for name, values in per_group.items():
            if name not in out:  # no paid invoice: a count or sum of 0, else NaN
                out[name] = np.full(n, np.nan if name in ("max_late", "sd_pay") else 0.0)
            out[name][keys] = values
    return out


def _lateness_of(
    rows: dict[str, np.ndarray], starts: np.ndarray, k: np.ndarray, config: FeatureConfig
) -> dict[str, np.ndarray]:
    """Per customer (rows ``starts[j]`` to ``starts[j] + k[j]``, latest first): ``r`` numbers a
    customer's paid invoices 0, 1, ...; the last-N mean and the trend read those with r < N."""
    late, amount, to_pay = rows["late"], rows["amount"], rows["to_pay"]
    r = (np.arange(len(late)) - np.repeat(starts, k)).astype("float64")

    def total(values: np.ndarray) -> np.ndarray:
        return np.add.reduceat(values, starts)

    last, trend = r < config.last_n_invoices, r < config.trend_n_invoices
    out = {
        "k": k.astype("float64"),
        "s_late": total(late),
        "s_wlate": total(late * amount),
        "s_amt": total(amount),
        "max_late": np.maximum.reduceat(late, starts),
        "s_pay": total(to_pay),
        "n_last": np.minimum(k, config.last_n_invoices).astype("float64"),
        "s_last": total(np.where(last, late, 0.0)),
        "tk": np.minimum(k, config.trend_n_invoices).astype("float64"),
        "tx": total(np.where(trend, -r, 0.0)),
        "ty": total(np.where(trend, late, 0.0)),
        "txy": total(np.where(trend, -r * late, 0.0)),
        "txx": total(np.where(trend, r * r, 0.0)),
    }
    for x in config.late_thresholds_days:
        out[f"late_over_{x}"] = total((late > x).astype("float64"))
    deviation = to_pay - np.repeat(out["s_pay"] / k, k)
    out["sd_pay"] = np.sqrt(total(deviation * deviation) / k)
    return out


def _ratio(num: np.ndarray, den: np.ndarray, out: np.ndarray) -> np.ndarray:
    """num / den into ``out``, NaN where den is not positive (SQL's ``_ratio``). ``out`` may be
    ``den``."""
    with np.errstate(invalid="ignore"):
        positive = den > 0
    np.divide(num, den, out=out, where=positive)
    out[~positive] = np.nan
    return out


def write_features(
    raw: dict[str, np.ndarray],
    crow: np.ndarray,
    sql: dict[str, np.ndarray],
    a: float,
    config: FeatureConfig,
    row: Callable[[str], np.ndarray],
) -> None:
    """Write the features of ``dense_feature_names`` of the customers ``crow`` into ``row(name)``,
    from the ``raw`` aggregates (indexed by ``crow``) and the SQL query's ``SQL_INPUTS`` columns (in
    the order of ``crow``). Derived values go through one scratch array: no fresh array (and no
    fresh pages to zero) per feature."""
    c, ws = config, config.activity_windows_days
    scratch = np.empty(len(raw["k"]))

    def put(name: str, values: np.ndarray) -> np.ndarray:
        return np.take(values, crow, out=row(name), mode="clip")  # every crow is in range

    def ratio(num: str, den: str) -> np.ndarray:
        return _ratio(raw[num], raw[den], scratch)

    put("n_paid_invoices", raw["k"])
    put("days_late_mean", ratio("s_late", "k"))
    put("days_late_wmean", ratio("s_wlate", "s_amt"))
    put("days_late_max", raw["max_late"])
    put(f"days_late_last{c.last_n_invoices}_mean", ratio("s_last", "n_last"))
    tk, tx, ty, txy, txx = (raw[k] for k in ("tk", "tx", "ty", "txy", "txx"))
    den = np.where(tk >= 2, tk * txx - tx * tx, 0.0)  # the slope over x = -r: NaN with fewer than 2
    put("days_late_trend", _ratio(tk * txy - tx * ty, den, den))
    put("days_to_pay_mean", ratio("s_pay", "k"))
    put("days_to_pay_std", raw["sd_pay"])
    for x in c.late_thresholds_days:
        put(f"share_late_over_{x}d", ratio(f"late_over_{x}", "k"))
    put("open_amount", raw["open"])
    put("overdue_amount", raw["overdue"])
    put("n_open_invoices", raw["n_open"])
    put("n_overdue_invoices", raw["n_overdue"])
    put("oldest_days_past_due", raw["oldest"])
    limit = sql["credit_limit"]
    _ratio(put("credit_utilisation", raw["open"]), limit, row("credit_utilisation"))
    put(f"due_next_{c.due_soon_days}d_amount", raw["due_soon"])
    put("share_overdue", ratio("overdue", "open"))
    for j, (name, _) in enumerate(_bucket_names(c)):
        put(name, raw[f"b{j}"])
    for w in ws:
        put(f"invoiced_amount_{w}d", raw[f"inv_{w}"])
        put(f"n_invoices_{w}d", raw[f"n_{w}"])
        put(f"paid_amount_{w}d", raw[f"paid_{w}"])
    for w in ws[:-1]:
        growth = put(f"invoiced_growth_{w}d", ratio(f"inv_{w}", f"before_{w}"))
        growth -= 1
    first = put("tenure_days", raw["first_issue"])
    np.subtract(a, np.fmin(first, sql["created"], out=first), out=first)  # least() skips a NULL
    last_invoice = put("days_since_last_invoice", raw["last_issue"])
    np.subtract(a, last_invoice, out=last_invoice)
    last_payment = put("days_since_last_payment", raw["last_applied"])
    np.subtract(a, np.fmax(last_payment, sql["last_payment"], out=last_payment), out=last_payment)
    put("n_invoices", raw["n_inv"])
    put("invoice_amount_mean", ratio("s_inv", "n_inv"))
    put("share_partial_allocations", ratio("n_partial", "n_alloc"))
    put("share_multi_invoice_payments", ratio("n_multi", "n_pay"))
    invoices = put("dispute_rate", raw["n_inv"])
    _ratio(sql["n_disputed"], invoices, invoices)
