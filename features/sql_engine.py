"""The as-of snapshot of a Parquet book computed in DuckDB SQL, on every core.

Same definitions, same tables as ``features.pipeline.build_snapshot`` (a test holds them equal on
generated books, with unknown ids, missing dates and every optional table), but the cut, the invoice
states and the feature families are SQL over the Parquet files, so the work runs on all cores with no
Python object per id. The families that group millions of the cut's rows by a dense row number
(activity, allocations, multi-invoice payments, exposure, lateness, the median invoice amount) are
added up in NumPy from the cut's tables (``features.dense``) while DuckDB computes the others.
The leak guard is the same rule, applied where each table is read: every fact enters through one
``known`` filter on its own date (``_tables``), and the leak checker (``features.leakage``) is run
against this engine too.

Dates become day numbers (``DOUBLE`` days since 1970-01-01, exact for the ledger's dates), so a
difference of two dates is already the feature's "days". Keys are Parquet row numbers: ``crow`` of
the customer, ``irow`` of the invoice; the tables are laid out in their order, as ``clip_book``
orders its codes.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from arrisk.timing import PhaseClock
from features import dense
from features.asof import to_timestamp
from features.book_check import COLUMNS, check_parquet_book, duckdb_readable, readable
from features.catalogue import INVOICE_OWN
from features.config import FeatureConfig, default_config
from features.memory import small_pages, sorted_places, take_rows
from features.parquet_source import _quoted
from features.parquet_source import _refuse_duplicates as refuse_duplicates
from features.snapshot_io import Snapshot

if TYPE_CHECKING:
    import pyarrow.parquet as pq

DAY_US = 86_400_000_000

# columns without which a table cannot be read (the others read as NULL: no currency = base currency)
REQUIRED: dict[str, tuple[str, ...]] = {
    "customers": ("customer_id", "payment_terms_days", "credit_limit"),
    "invoices": ("invoice_id", "customer_id", "issue_date", "due_date", "amount"),
    "payments": ("payment_id", "payment_date"),
    "allocations": ("payment_id", "invoice_id", "amount"),
    "credit_notes": ("issue_date", "amount"),
    "disputes": ("invoice_id", "opened_at"),
    "promises": ("customer_id", "created_at", "promised_date", "amount"),
    "write_offs": ("invoice_id", "date", "amount"),
    "dunning_events": ("invoice_id", "level", "event_date"),
    "payment_plans": ("customer_id", "created_at"),
    "credit_limits": ("customer_id", "credit_limit"),
    "fx_rates": ("currency", "rate_date", "rate_to_base"),
}
REQUIRED_TABLES = ("customers", "invoices", "payments", "allocations")
# a table of fewer rows than this is keyed by 4-byte row numbers (8-byte above)
INTEGER_KEYS_BELOW = 2**31
# read as ``pd.to_numeric(errors="coerce")`` reads them: text that is no number is NULL (NaN)
_DOUBLE_FROM_TEXT = {"amount", "level"}


def _day(expr: str) -> str:
    """A date or timestamp as DOUBLE days since 1970-01-01 (NULL stays NULL)."""
    return f"(epoch_us(CAST({expr} AS TIMESTAMP)) / {DAY_US}.0)"


def _source(folder: Path, table: str, footer: pq.FileMetaData | None = None) -> str:
    """``SELECT`` of the table's wanted columns (typed) and its row number; empty without a file.
    ``footer``: the file's Parquet footer where already read (else it is read here)."""
    import pyarrow.parquet as pq

    from arrisk.errors import ValidationError

    wanted = COLUMNS[table]
    path = folder / f"{table}.parquet"
    if not path.exists() and table in REQUIRED_TABLES:
        raise ValidationError(f"{path}: missing; a book needs {', '.join(REQUIRED_TABLES)}")
    if not path.exists():
        nulls = ", ".join(f"NULL::{t} AS {c}" for c, t in wanted.items())
        return f"(SELECT {nulls}, 0::INTEGER AS file_row_number WHERE false)"
    if footer is None:
        with readable(path):
            footer = pq.read_metadata(path)
    have = set(footer.schema.to_arrow_schema().names)
    missing = [c for c in REQUIRED[table] if c not in have]
    if missing:
        raise ValidationError(f"{path}: missing required column(s) {', '.join(missing)}")
    cols = []
    for c, t in wanted.items():
        if c not in have:
            cols.append(f"NULL::{t} AS {c}")
        elif t == "DOUBLE" and c in _DOUBLE_FROM_TEXT:
            cols.append(f"TRY_CAST({c} AS DOUBLE) AS {c}")
        elif t == "VARCHAR":
            cols.append(f"CAST({c} AS VARCHAR) AS {c}")
        else:
            cols.append(f"CAST({c} AS {t}) AS {c}")
    # row numbers as 4-byte keys where they fit: narrower keys make every join, group and sort on
    # them cheaper (about 0.5 s of 10.5 s at a million customers, measured side by side)
    key = "INTEGER" if footer.num_rows < INTEGER_KEYS_BELOW else "BIGINT"
    return (
        f"(SELECT {', '.join(cols)}, CAST(file_row_number AS {key}) AS file_row_number "
        f"FROM read_parquet({_quoted(path)}, file_row_number = true))"
    )


def _tables(
    folder: Path, a: float, config: FeatureConfig, footers: dict[str, pq.FileMetaData] | None = None
) -> list[str]:
    """The book cut at day ``a``: every statement's ``WHERE`` keeps only facts dated on or before it.
    ``footers``: the Parquet footers already read, by table."""
    footers = footers or {}
    src = {t: _source(folder, t, footers.get(t)) for t in COLUMNS}
    open_ = "i.amount - coalesce(sa.paid, 0) - coalesce(so.credited, 0) - coalesce(so.written_off, 0)"
    return [
        # latest rate known on day a, else the currency's earliest (reference data, not an event)
        f"""CREATE TABLE rates AS
        SELECT currency,
          coalesce(arg_max(rate_to_base, rate_date) FILTER (WHERE {_day("rate_date")} <= {a}),
                   arg_min(rate_to_base, rate_date)) AS rate
        FROM {src["fx_rates"]} GROUP BY currency""",
        f"""CREATE TABLE c AS
        SELECT x.file_row_number AS crow, x.customer_id, x.payment_terms_days AS terms,
          x.credit_limit * coalesce(r.rate, 1.0) AS master_limit, {_day("x.created_at")} AS created
        FROM {src["customers"]} x LEFT JOIN rates r ON r.currency = x.currency
        WHERE x.created_at IS NULL OR {_day("x.created_at")} <= {a}""",
        # limit in force: the latest change on or before a (NULL date = from the start; ties: later row)
        f"""CREATE TABLE lim AS
        SELECT c.crow, arg_max(x.credit_limit * coalesce(r.rate, 1.0),
                               [coalesce({_day("x.effective_date")}, -1e18), x.file_row_number])
          AS credit_limit
        FROM {src["credit_limits"]} x JOIN c USING (customer_id) LEFT JOIN rates r ON r.currency = x.currency
        WHERE x.effective_date IS NULL OR {_day("x.effective_date")} <= {a}
        GROUP BY c.crow""",
        *_as_written(
            f"""CREATE TABLE i AS
            SELECT x.file_row_number AS irow, x.invoice_id, c.crow, {_day("x.issue_date")} AS issue,
              {_day("x.due_date")} AS due, coalesce(r.rate, 1.0) AS rate,
              x.amount * coalesce(r.rate, 1.0) AS amount
            FROM {src["invoices"]} x JOIN c USING (customer_id) LEFT JOIN rates r ON r.currency = x.currency
            WHERE {_day("x.issue_date")} <= {a}"""
        ),
        # an allocation without applied_at is applied on its payment's date; reversed by a: not counted.
        # Allocations meet their payments (hashed), then the invoices probe the allocations
        *_as_written(
            f"""CREATE TABLE a AS
            SELECT x.arow, i.irow, i.crow, x.prow, i.amount AS inv_amount, x.amount * i.rate AS amount,
              x.applied
            FROM i JOIN (
              SELECT x.file_row_number AS arow, x.invoice_id, p.file_row_number AS prow, x.amount,
                {_day("coalesce(x.applied_at, p.payment_date)")} AS applied, x.reversed_at
              FROM {src["allocations"]} x LEFT JOIN {src["payments"]} p ON p.payment_id = x.payment_id) x
            USING (invoice_id)
            WHERE x.applied <= {a} AND NOT coalesce({_day("x.reversed_at")} <= {a}, false)"""
        ),
        # grouped by id before the join: one probe per customer, not one per payment
        f"""CREATE TABLE pay AS
        SELECT c.crow, x.last_payment
        FROM (SELECT customer_id, max({_day("payment_date")}) AS last_payment FROM {src["payments"]}
              WHERE {_day("payment_date")} <= {a} GROUP BY customer_id) x JOIN c USING (customer_id)""",
        # the invoices the smaller tables name, found in one pass over ``i`` (not one pass each)
        f"""CREATE TABLE named AS
        SELECT invoice_id, irow, crow, rate FROM i SEMI JOIN (
          SELECT invoice_id FROM {src["credit_notes"]} UNION ALL SELECT invoice_id FROM {src["disputes"]}
          UNION ALL SELECT invoice_id FROM {src["write_offs"]}
          UNION ALL SELECT invoice_id FROM {src["dunning_events"]}) USING (invoice_id)""",
        f"""CREATE TABLE cn AS
        SELECT x.file_row_number AS nrow, i.irow, coalesce(i.crow, c.crow) AS crow,
          {_day("x.issue_date")} AS d,
          x.amount * coalesce(r.rate, 1.0) AS amount
        FROM {src["credit_notes"]} x LEFT JOIN named i ON i.invoice_id = x.invoice_id
        LEFT JOIN c ON c.customer_id = x.customer_id LEFT JOIN rates r ON r.currency = x.currency
        WHERE {_day("x.issue_date")} <= {a} AND coalesce(i.crow, c.crow) IS NOT NULL""",
        # resolved after a: still open on a
        f"""CREATE TABLE dis AS
        SELECT x.file_row_number AS drow, i.irow, i.crow,
          CASE WHEN {_day("x.resolved_at")} <= {a} THEN {_day("x.resolved_at")} END AS resolved,
          CASE WHEN isnan(x.amount) THEN NULL ELSE x.amount * i.rate END AS amount
        FROM {src["disputes"]} x JOIN named i USING (invoice_id)
        WHERE {_day("x.opened_at")} <= {a}""",
        # a promise is judged by the allocations to the customer after the day before it was made, up
        # to min(promised date + grace, a) (no promised date: up to a; least() skips a NULL):
        # ``sign`` * the allocations in (lo, hi], a deadline before the promise counting them negative
        f"""CREATE TABLE pr AS
        SELECT prow, crow, deadline, amount,
          least(until, created - 1) AS lo, greatest(until, created - 1) AS hi,
          CASE WHEN until >= created - 1 THEN 1 ELSE -1 END AS sign
        FROM (SELECT x.file_row_number AS prow, c.crow, {_day("x.created_at")} AS created,
                {_day("x.promised_date")} + {config.promise_grace_days} AS deadline,
                least({_day("x.promised_date")} + {config.promise_grace_days}, {a}) AS until,
                x.amount * coalesce(r.rate, 1.0) AS amount
              FROM {src["promises"]} x JOIN c USING (customer_id)
              LEFT JOIN rates r ON r.currency = x.currency
              WHERE {_day("x.created_at")} <= {a})""",
        f"""CREATE TABLE wo AS
        SELECT x.file_row_number AS wrow, i.irow, i.crow, {_day("x.date")} AS d, x.amount * i.rate AS amount
        FROM {src["write_offs"]} x JOIN named i USING (invoice_id)
        WHERE {_day("x.date")} <= {a} AND (x.status IS NULL OR x.status = 'approved')""",
        f"""CREATE TABLE dun AS
        SELECT x.file_row_number AS urow, i.irow, i.crow, x.level, {_day("x.event_date")} AS d
        FROM {src["dunning_events"]} x JOIN named i USING (invoice_id)
        WHERE {_day("x.event_date")} <= {a} AND (x.status IS NULL OR x.status = 'sent')""",
        f"""CREATE TABLE plans AS
        SELECT c.crow, coalesce({_day("x.broken_at")} <= {a}, false) AS broken
        FROM {src["payment_plans"]} x JOIN c USING (customer_id)
        WHERE {_day("x.created_at")} <= {a}""",
        # open amount; settled = the first event (date, then allocations, credit notes, write-offs in
        # file order) at which the running total covers the invoice: with one event, that event.
        # Credit notes and write-offs are grouped together: one join with ``i``, not two
        *_as_written(
            f"""CREATE TABLE st AS
            WITH sa AS (SELECT irow, sum(amount) AS paid, count(*)::INTEGER AS n, any_value(applied) AS d
                        FROM a GROUP BY irow),
              so AS (SELECT irow, sum(amount) FILTER (WHERE NOT w) AS credited,
                       sum(amount) FILTER (WHERE w) AS written_off, count(*)::INTEGER AS n, any_value(d) AS d,
                       bool_or(w) AS any_write_off
                     FROM (SELECT irow, amount, d, false AS w FROM cn WHERE irow IS NOT NULL
                           UNION ALL SELECT irow, amount, d, true FROM wo) GROUP BY irow)
            SELECT irow, crow, issue, due, amount, n_alloc, open_amount, is_open, n_events,
              CASE WHEN NOT is_open AND n_events = 1 THEN one_d
                WHEN NOT is_open AND n_events = 0 THEN issue END AS settled_at,
              NOT is_open AND n_events = 1 AND one_is_write_off AS by_write_off
            FROM (SELECT i.irow, i.crow, i.issue, i.due, i.amount, coalesce(sa.n, 0) AS n_alloc,
                    coalesce(sa.n, 0) + coalesce(so.n, 0) AS n_events,
                    coalesce(sa.d, so.d) AS one_d, coalesce(so.any_write_off, false) AS one_is_write_off,
                    {open_} AS open_amount, {open_} > {_tol(config, "i.amount")} AS is_open
                  FROM i LEFT JOIN sa USING (irow) LEFT JOIN so USING (irow))"""
        ),
        f"""CREATE TABLE settle AS
        WITH many AS (SELECT irow, amount AS total FROM st WHERE NOT is_open AND n_events > 1),
        ev AS (
          SELECT irow, applied AS d, 0 AS src, arow AS k, amount FROM a SEMI JOIN many USING (irow)
          UNION ALL SELECT irow, d, 1, nrow, amount FROM cn SEMI JOIN many USING (irow)
          UNION ALL SELECT irow, d, 2, wrow, amount FROM wo SEMI JOIN many USING (irow)),
        run AS (
          SELECT ev.irow, ev.d, ev.src, many.total,
            sum(ev.amount) OVER (PARTITION BY ev.irow ORDER BY ev.d, ev.src, ev.k ROWS UNBOUNDED PRECEDING)
              AS cum,
            row_number() OVER (PARTITION BY ev.irow ORDER BY ev.d, ev.src, ev.k) AS n
          FROM ev JOIN many USING (irow))
        SELECT irow, arg_min(d, n) AS settled_at, arg_min(src = 2, n) AS by_write_off
        FROM run WHERE cum >= total - {_tol(config, "total")} GROUP BY irow""",
        # paid = settled by allocations or credit notes. Views, not tables: each is read once by a
        # family (and ``opened`` by the invoice features), so storing them only costs a copy
        """CREATE VIEW paid AS
        SELECT st.crow, st.irow, st.amount, settled, greatest(0.0, settled - st.due) AS late,
          settled - st.issue AS to_pay
        FROM (SELECT st.*, coalesce(s.settled_at, st.settled_at) AS settled,
                coalesce(s.by_write_off, st.by_write_off) AS wo
              FROM st LEFT JOIN settle s USING (irow) WHERE NOT st.is_open) st
        WHERE NOT st.wo""",
        """CREATE VIEW opened AS SELECT * FROM st WHERE is_open""",
    ]


def _as_written(statement: str) -> list[str]:
    """``statement`` run as written: no join reordering, and each join builds its hash table on the
    table written on its right, which for the cut's large joins is the narrower side. On one thread
    the rows then come in the order of the table on the left whatever the row counts, so the order in
    which sums add up does not move with facts dated after the cut: the leak test (small books)
    holds features equal to the last bit, and it failed when the optimizer still chose the build
    sides by row count. At a million customers the allocations took 2.77 s instead of 3.28 s, and the
    whole cut 9.41 s instead of 9.86 s (medians of 6 and 8 runs alternating with the optimizer's order).
    """
    return [
        "SET disabled_optimizers = 'join_order,build_side_probe_side'",
        statement,
        "SET disabled_optimizers = ''",
    ]


def _ratio(num: str, den: str) -> str:
    """num / den, NULL (NaN) where den is not positive."""
    return f"CASE WHEN ({den}) > 0 THEN ({num}) / ({den}) END"


def _families(a: float, config: FeatureConfig) -> dict[str, tuple[str, dict[str, str]]]:
    """Family -> (the ``GROUP BY crow`` query, {feature: its expression over that query's columns}).

    A family's query yields its raw aggregates; the expressions turn them into features (NULL of a
    customer without rows: the empty-group value given by ``coalesce``).
    """
    c = config
    disputes = (
        """SELECT dis.crow, count(*) AS n_dis, count(DISTINCT dis.irow) AS n_disputed,
          count(*) FILTER (WHERE resolved IS NULL) AS n_open_dis,
          sum(coalesce(dis.amount, st.open_amount)) FILTER (WHERE resolved IS NULL) AS open_dis_amount
        FROM dis JOIN st USING (irow) GROUP BY dis.crow""",
        {
            "n_disputes": "coalesce(n_dis, 0)",
            "n_open_disputes": "coalesce(n_open_dis, 0)",
            "open_dispute_amount": "coalesce(open_dis_amount, 0)",
        },
    )
    kept_ = f"coalesce(covered >= amount - {_tol(c, 'amount')}, false)"
    matured = f"coalesce(deadline <= {a}, false)"
    promises = (
        f"""SELECT crow, count(*) AS n_prom, count(*) FILTER (WHERE {kept_}) AS n_kept,
          count(*) FILTER (WHERE NOT {kept_} AND {matured}) AS n_broken,
          count(*) FILTER (WHERE NOT {kept_} AND NOT {matured}) AS n_pending
        FROM (SELECT pr.prow, any_value(pr.crow) AS crow, any_value(pr.amount) AS amount,
                any_value(pr.deadline) AS deadline, any_value(pr.sign) * coalesce(sum(a.amount), 0) AS covered
              FROM pr LEFT JOIN a ON a.crow = pr.crow AND a.applied > pr.lo AND a.applied <= pr.hi
              GROUP BY pr.prow)
        GROUP BY crow""",
        {
            "n_promises": "coalesce(n_prom, 0)",
            "n_promises_kept": "coalesce(n_kept, 0)",
            "n_promises_broken": "coalesce(n_broken, 0)",
            "n_promises_pending": "coalesce(n_pending, 0)",
            "promise_kept_rate": _ratio("coalesce(n_kept, 0)", "coalesce(n_kept, 0) + coalesce(n_broken, 0)"),
        },
    )
    dunning = (
        f"""SELECT dun.crow, max(level) AS max_level, max(level) FILTER (WHERE st.is_open) AS max_level_open,
          count(*) FILTER (WHERE {a} - d < {c.dunning_recent_days}) AS n_recent
        FROM dun JOIN st USING (irow) GROUP BY dun.crow""",
        {
            "dunning_max_level": "coalesce(max_level, 0)",
            "dunning_max_level_open": "coalesce(max_level_open, 0)",
            f"n_dunning_{c.dunning_recent_days}d": "coalesce(n_recent, 0)",
        },
    )
    plans = (
        """SELECT crow, count(*) AS n_plans, count(*) FILTER (WHERE NOT broken) AS n_active,
          count(*) FILTER (WHERE broken) AS n_broken_plans FROM plans GROUP BY crow""",
        {
            "n_payment_plans": "coalesce(n_plans, 0)",
            "n_payment_plans_active": "coalesce(n_active, 0)",
            "n_payment_plans_broken": "coalesce(n_broken_plans, 0)",
        },
    )
    write_offs = (
        "SELECT crow, count(*) AS n_wo, sum(amount) AS wo_amount FROM wo GROUP BY crow",
        {"n_write_offs": "coalesce(n_wo, 0)", "write_off_amount": "coalesce(wo_amount, 0)"},
    )
    credits = (
        "SELECT crow, sum(amount) AS credited FROM cn GROUP BY crow",
        {"credited_amount": "coalesce(credited, 0)"},
    )
    return {
        "disputes": disputes,
        "promises": promises,
        "dunning": dunning,
        "plans": plans,
        "write_offs": write_offs,
        "credits": credits,
    }


def _tol(config: FeatureConfig, expr: str) -> str:
    return f"greatest({config.paid_tolerance_abs}, {config.paid_tolerance_rel} * abs({expr}))"


def customer_sql(a: float, config: FeatureConfig, names: list[str], limit_history: bool) -> str:
    """One row per kept customer (in no order): ``crow``, ``customer_id``, the features of ``names``
    that are not ``dense`` ones, then the dense families' ``SQL_INPUTS`` (as ``_NAME``), all DOUBLE."""
    families = _families(a, config)
    exprs = {"credit_limit": "credit_limit", "payment_terms_days": "terms"}
    for _, feats in families.values():
        exprs.update(feats)
    in_numpy = set(dense.dense_feature_names(config))
    missing = [f for f in names if f not in exprs and f not in in_numpy]
    if missing:
        raise KeyError(f"no SQL for features {missing}")
    withs = ", ".join(f"f_{k} AS ({q})" for k, (q, _) in families.items())
    joins = " ".join(f"LEFT JOIN f_{k} USING (crow)" for k in families)
    limit = "lim.credit_limit" if limit_history else "c.master_limit"
    cols = [f'{_nan(exprs[f])} AS "{f}"' for f in names if f not in in_numpy]
    cols += [f'{_nan(e)} AS "_{k}"' for k, e in dense.SQL_INPUTS.items()]
    return f"""WITH {withs}
    SELECT crow, customer_id, {", ".join(cols)}
    FROM (SELECT c.*, {limit} AS credit_limit FROM c LEFT JOIN lim USING (crow)) c
    LEFT JOIN pay USING (crow) {joins}"""


def _nan(expr: str) -> str:
    """The feature as DOUBLE with NaN for NULL: columns without nulls reach NumPy without a copy."""
    return f"coalesce(CAST({expr} AS DOUBLE), 'NaN'::DOUBLE)"


def invoice_sql(a: float) -> str:
    """The own features of every open invoice (in no order), with its ``irow`` and ``crow``."""
    return f"""
    WITH dis_open AS (SELECT DISTINCT irow FROM dis WHERE resolved IS NULL),
      dun_max AS (SELECT irow, max(level) AS level FROM dun GROUP BY irow)
    SELECT o.irow, o.crow, i.invoice_id,
      o.amount AS inv_amount, o.open_amount AS inv_open_amount,
      {_nan(_ratio("o.open_amount", "o.amount"))} AS inv_share_open,
      o.due - o.issue AS inv_terms_days,
      o.due - {a} AS inv_days_to_due, greatest(0.0, {a} - o.due) AS inv_days_past_due,
      {a} - o.issue AS inv_age_days,
      CAST(dis_open.irow IS NOT NULL AS DOUBLE) AS inv_is_disputed,
      coalesce(dun_max.level, 0) AS inv_dunning_level, CAST(o.n_alloc AS DOUBLE) AS inv_n_allocations
    FROM opened o JOIN i USING (irow) LEFT JOIN dis_open USING (irow) LEFT JOIN dun_max USING (irow)"""


def _refuse_duplicates(con) -> None:  # type: ignore[no-untyped-def]
    """Ids must be unique (an id named twice would count its facts twice): customers known on the day,
    invoices and payments where allocations name them (as ``features.parquet_source`` checks):
    there an allocation row met two invoice rows, or two payment rows."""
    if con.execute("SELECT count(customer_id) - count(DISTINCT customer_id) FROM c").fetchall()[0][0]:
        refuse_duplicates("customers", "customer_id")
    arow = con.sql("SELECT arow FROM a").fetchnumpy()["arow"]
    seen = np.zeros(int(arow.max()) + 1 if len(arow) else 0, dtype=bool)
    seen[arow] = True  # a bitmap: cheaper than a DISTINCT in SQL, or a count per row
    if np.count_nonzero(seen) < len(arow):
        sql = "SELECT count(*) FROM (SELECT arow FROM a GROUP BY arow HAVING count(DISTINCT irow) > 1)"
        if con.execute(sql).fetchall()[0][0]:
            refuse_duplicates("invoices", "invoice_id")
        refuse_duplicates("payments", "payment_id")


def build_snapshot_sql(
    folder: Path | str,
    as_of: date | pd.Timestamp | str,
    *,
    config: FeatureConfig | None = None,
    threads: int | None = None,
    stages: dict[str, float] | None = None,
) -> Snapshot:
    """``build_snapshot`` of the Parquet book in ``folder``, computed by DuckDB on ``threads`` (all cores).

    ``stages``, if given, receives the seconds of each stage (cut and invoice states, the customer
    features, the invoice features and the layout of the two tables).
    """
    import duckdb

    from features.parallel import cores
    from features.pipeline import feature_version

    config = config or default_config()
    folder = Path(folder)
    footers = check_parquet_book(folder)
    stamp = to_timestamp(as_of)
    a = float((stamp - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1))
    # a book larger than memory spills into a folder of its own under the system's temporary folder
    with tempfile.TemporaryDirectory(prefix="arrisk-duckdb-") as spill:
        con = duckdb.connect()
        try:
            con.execute(f"SET threads = {threads or cores()}")
            con.execute("SET preserve_insertion_order = false")
            con.execute(f"SET temp_directory = {_quoted(spill)}")
            with duckdb_readable(folder):  # a file that is corrupt past its footer
                customers, invoices = _compute(con, folder, a, config, PhaseClock(stages), footers)
        finally:
            con.close()
    return Snapshot(as_of=stamp, customers=customers, invoices=invoices, version=feature_version(config))


def _compute(
    con, folder: Path, a: float, config: FeatureConfig, clock: PhaseClock, footers: dict[str, pq.FileMetaData]
) -> tuple[pd.DataFrame, pd.DataFrame]:  # type: ignore[no-untyped-def]
    """Run the statements on ``con`` and lay the results out as the customer and open-invoice tables."""
    from features.pipeline import customer_feature_names

    names = customer_feature_names(config)
    for statement in _tables(folder, a, config, footers):
        con.execute(statement)
    _refuse_duplicates(con)
    clock.lap("cut_and_invoice_states_s")
    limits = "credit_limits" in footers and footers["credit_limits"].num_rows > 0
    # queries at once, each on a connection of its own to the same in-memory database (the cut's
    # tables are not TEMP, so all see them): DuckDB computes the SQL families and the invoice features
    # and sorts the rows NumPy reads sorted (off the GIL), while NumPy adds up the dense families
    customer_con, invoice_con, *sort_cons = cursors = [con.cursor() for _ in range(4)]
    try:
        with small_pages(), ThreadPoolExecutor(4) as pool:
            customers_pending = pool.submit(
                lambda: customer_con.sql(customer_sql(a, config, names, limits)).to_arrow_table()
            )
            invoices_pending = pool.submit(lambda: invoice_con.sql(invoice_sql(a)).to_arrow_table())
            size = con.execute("SELECT coalesce(max(crow), -1) + 1 FROM c").fetchall()[0][0]
            # the sorted rows are fetched and read where they are sorted (reduceat releases the GIL)
            sorted_rows = {"i": pool.submit(dense.sorted_invoices, sort_cons[0], size)}
            lateness = pool.submit(dense.lateness, sort_cons[1], config, size)

            def rows(table: str) -> dict[str, np.ndarray]:
                return sorted_rows["i"].result()[0] if table == "i" else dense.fetch(con, table)

            raw = dense.aggregate(rows, a, config, size)
            raw["median"] = sorted_rows.pop("i").result()[1]  # and the invoices' rows are let go
            raw.update(lateness.result())
            customers_arrow = customers_pending.result()
            invoices_arrow = invoices_pending.result()
            clock.lap("customer_features_s")
            # freeing DuckDB's tables takes a while: beside the layout
            closing = pool.submit(lambda: [c.close() for c in (*cursors, con)])
            crow, block, customers = _customer_frame(customers_arrow, names, _dense_features(raw, a, config))
            median = raw["median"]
            del customers_arrow, raw
            clock.lap("invoice_features_and_customer_table_s")
            invoices = _invoice_frame(invoices_arrow, crow, block, customers, median)
            closing.result()
            clock.lap("invoice_table_s")
    finally:
        for cursor in cursors:
            cursor.close()
    return customers, invoices


def _dense_features(raw: dict[str, np.ndarray], a: float, config: FeatureConfig) -> Callable[..., None]:
    """``_customer_frame``'s ``more``: writes the dense families' features of the customers ``crow``."""

    def more(crow: np.ndarray, column: Callable[[str], np.ndarray], row: Callable[[str], np.ndarray]) -> None:
        inputs = {name: column(f"_{name}") for name in dense.SQL_INPUTS}
        inputs["credit_limit"] = column("credit_limit")
        dense.write_features(raw, crow, inputs, a, config, row)

    return more


def _order(arrow, key: str) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """The sorted unique ``key`` and each result row's place in that order. The queries leave the
    ordering to NumPy: a scatter of each column costs less than DuckDB's sort of all of them."""
    keys = arrow.column(key).to_numpy()
    order, place = sorted_places(keys)
    return keys[order], place


def _customer_frame(  # type: ignore[no-untyped-def]
    arrow, names: list[str], more: Callable[..., None] | None = None
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Customer rows' ``crow``, the feature block (feature x customer) and the customer table on it,
    in ``crow`` order. The features of ``names`` come from ``arrow``'s columns, the others from
    ``more(crow, column, row)``, which writes feature ``name`` into ``row(name)``; ``column(name)`` is
    a column of ``arrow``, or a feature already written, in ``crow`` order."""
    crow, place = _order(arrow, "crow")
    block = np.empty((len(names), len(crow)), dtype="float64")
    index = {name: j for j, name in enumerate(names)}
    filled = {name for name in arrow.column_names[2:] if name in index}
    for name in filled:
        _fill(block[index[name]], arrow.column(name), place)

    def column(name: str) -> np.ndarray:
        if name in filled:
            return block[index[name]]
        values = np.empty(len(crow))
        _fill(values, arrow.column(name), place)
        return values

    def row(name: str) -> np.ndarray:
        filled.add(name)
        return block[index[name]]

    if more is not None:
        more(crow, column, row)
    if len(filled) < len(names):
        raise KeyError(f"no values for features {[n for n in names if n not in filled]}")
    customers = pd.DataFrame(block.T, columns=names, copy=False)
    customers.insert(0, "customer_id", _placed(arrow.column("customer_id"), place))
    return crow, block, customers


def _invoice_frame(  # type: ignore[no-untyped-def]
    arrow, crow: np.ndarray, block: np.ndarray, customers: pd.DataFrame, median: np.ndarray
) -> pd.DataFrame:
    """Open invoices in ``irow`` order: ids, the invoice's own features (the amount against the
    customer's ``median``, indexed by ``crow``, computed here), then its customer's (gathered from
    ``block``)."""
    from features.parallel import cores

    _, place = _order(arrow, "irow")
    row_of = np.zeros(int(crow[-1]) + 1 if len(crow) else 0, dtype="int64")  # customer row of a crow
    row_of[crow] = np.arange(len(crow))
    position = np.empty(len(place), dtype="int64")
    position[place] = row_of[arrow.column("crow").to_numpy()]  # every open invoice's customer is kept
    own, names = [*INVOICE_OWN], list(customers.columns[1:])
    inv_block = np.empty((len(own) + len(names), len(position)), dtype="float64")
    with ThreadPoolExecutor(1) as pool:
        # NumPy gathers the customer features (off the GIL) while Python makes the id objects
        gathered = pool.submit(take_rows, block, position, inv_block[len(own) :], cores())
        invoice_ids = _placed(arrow.column("invoice_id"), place)
        customer_ids = customers["customer_id"].to_numpy()[position]
        for j, name in enumerate(own):
            if name != "inv_amount_vs_customer_median":
                _fill(inv_block[j], arrow.column(name), place)
        usual = median[crow[position]]
        ratio = inv_block[own.index("inv_amount_vs_customer_median")]
        ratio[:] = np.nan
        np.divide(inv_block[own.index("inv_amount")], usual, out=ratio, where=usual > 0)
        gathered.result()  # every position is found
    invoices = pd.DataFrame(inv_block.T, columns=[*own, *names], copy=False)
    invoices.insert(0, "customer_id", customer_ids)
    invoices.insert(0, "invoice_id", invoice_ids)
    return invoices


def _placed(column, place: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    """A text column as an object array, row k at ``place[k]``."""
    out = np.empty(len(place), dtype=object)
    out[place] = column.to_numpy()
    return out


def _fill(row: np.ndarray, column, place: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    """Scatter an Arrow DOUBLE column into ``row`` (row k to ``place[k]``), chunk by chunk (each chunk
    read in place)."""
    start = 0
    for chunk in column.chunks:
        values = chunk.to_numpy(zero_copy_only=False)  # in place when it has no nulls
        row[place[start : start + len(values)]] = values
        start += len(values)
