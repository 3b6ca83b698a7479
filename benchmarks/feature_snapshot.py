"""Benchmark: one as-of feature snapshot on the generated book at 100k and 1M customers, against DuckDB.

Each measurement runs in its own process so its peak memory (ru_maxrss) is its own:
  * ours: ``features.pipeline.build_snapshot_from_parquet`` as the CLI runs it, the SQL engine
    (``features.sql_engine``: the cut, invoice states and every feature family in DuckDB on every
    core), from the Parquet files to the two pandas tables;
  * ours_pandas: the same snapshot by the pandas engine, timed in its two halves: load = read the
    Parquet book and cut it at the as-of date (``features.parquet_source.read_asof_book``), build =
    ``snapshot_of_book`` (every feature, in one process on a machine of fewer than 4 cores);
  * duckdb: the same core aggregates (open / overdue amount, oldest days past due, paid invoices,
    mean days late, amount invoiced in 365 days; fx at the as-of rate, leak-free) in one SQL query
    straight from the Parquet files: the reference for what this machine can do.
Results (medians over repeats) go to benchmarks/results/features.json; a short table is printed.

    .venv/bin/python benchmarks/feature_snapshot.py [--sizes 100000,1000000] [--repeats 3] [--book-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "features.json"
AS_OF = "2025-10-31"
CORE = ["open_amount", "overdue_amount", "oldest_days_past_due", "n_paid_invoices", "days_late_mean",
        "invoiced_amount_365d"]  # fmt: skip

DUCKDB_SQL = """
WITH rates AS (
  SELECT currency, arg_max(rate_to_base, rate_date) AS rate FROM read_parquet('{d}/fx_rates.parquet')
  WHERE rate_date <= DATE '{as_of}' GROUP BY currency),
inv AS (
  SELECT i.invoice_id, i.customer_id, i.issue_date, i.due_date, i.amount, coalesce(r.rate, 1.0) AS rate
  FROM read_parquet('{d}/invoices.parquet') i LEFT JOIN rates r USING (currency)
  WHERE i.issue_date <= DATE '{as_of}'),
ev AS (
  SELECT invoice_id, applied_at AS d, amount, 0 AS wo FROM read_parquet('{d}/allocations.parquet')
  WHERE applied_at <= DATE '{as_of}' AND (reversed_at IS NULL OR reversed_at > DATE '{as_of}')
  UNION ALL SELECT invoice_id, issue_date, amount, 0 FROM read_parquet('{d}/credit_notes.parquet')
  WHERE issue_date <= DATE '{as_of}' AND invoice_id IS NOT NULL
  UNION ALL SELECT invoice_id, date, amount, 1 FROM read_parquet('{d}/write_offs.parquet')
  WHERE date <= DATE '{as_of}'),
cum AS (
  SELECT invoice_id, d, wo,
    sum(amount) OVER (PARTITION BY invoice_id ORDER BY d, wo ROWS UNBOUNDED PRECEDING) AS c
  FROM ev),
settle AS (
  SELECT cum.invoice_id, min(cum.d) AS settled_at, arg_min(cum.wo, cum.d) AS by_wo
  FROM cum JOIN inv USING (invoice_id)
  WHERE cum.c >= inv.amount - greatest(0.01, 0.001 * abs(inv.amount)) GROUP BY cum.invoice_id),
paid AS (SELECT invoice_id, sum(amount) AS s FROM ev GROUP BY invoice_id),
st AS (
  SELECT inv.*, inv.amount - coalesce(paid.s, 0) AS open_native, settle.settled_at, settle.by_wo
  FROM inv LEFT JOIN paid USING (invoice_id) LEFT JOIN settle USING (invoice_id))
SELECT customer_id,
  sum(CASE WHEN settled_at IS NULL THEN open_native * rate ELSE 0 END) AS open_amount,
  sum(CASE WHEN settled_at IS NULL AND due_date < DATE '{as_of}' THEN open_native * rate ELSE 0 END)
    AS overdue_amount,
  max(CASE WHEN settled_at IS NULL THEN greatest(date_diff('day', due_date, DATE '{as_of}'), 0) ELSE 0 END)
    AS oldest_days_past_due,
  count(CASE WHEN settled_at IS NOT NULL AND by_wo = 0 THEN 1 END) AS n_paid_invoices,
  avg(CASE WHEN settled_at IS NOT NULL AND by_wo = 0
      THEN greatest(date_diff('day', due_date, settled_at), 0) END) AS days_late_mean,
  sum(CASE WHEN issue_date > DATE '{as_of}' - INTERVAL 365 DAY THEN amount * rate ELSE 0 END)
    AS invoiced_amount_365d
FROM st GROUP BY customer_id
"""


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_ours(book: Path, out: Path) -> dict:
    import pyarrow.parquet as pq

    from features.parallel import cores
    from features.pipeline import build_snapshot_from_parquet

    t0 = time.perf_counter()
    snap = build_snapshot_from_parquet(book, AS_OF)  # the default engine: sql
    seconds = time.perf_counter() - t0
    input_rows = sum(pq.read_metadata(p).num_rows for p in book.glob("*.parquet"))
    snap.customers[["customer_id", *CORE]].to_parquet(out)
    return {
        "total_s": seconds,
        "peak_mb": peak_mb(),
        "input_rows": input_rows,
        "customers": len(snap.customers),
        "open_invoices": len(snap.invoices),
        "threads": cores(),
    }


def run_pandas(book: Path, out: Path) -> dict:
    from features.parallel import default_workers
    from features.parquet_source import read_asof_book
    from features.pipeline import snapshot_of_book

    t0 = time.perf_counter()
    as_of_book = read_asof_book(book, AS_OF)
    t1 = time.perf_counter()
    workers = default_workers(len(as_of_book.customer_ids))
    snap = snapshot_of_book(as_of_book, workers=workers)
    t2 = time.perf_counter()
    snap.customers[["customer_id", *CORE]].to_parquet(out)
    return {
        "load_s": t1 - t0,  # read + clip to the as-of date
        "build_s": t2 - t1,
        "total_s": t2 - t0,
        "peak_mb": peak_mb(),
        "workers": workers,
    }


def run_duckdb(book: Path, out: Path) -> dict:
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {os.cpu_count()}")
    t0 = time.perf_counter()
    result = con.execute(DUCKDB_SQL.format(d=book, as_of=AS_OF)).df()
    seconds = time.perf_counter() - t0
    result.to_parquet(out)
    return {"total_s": seconds, "peak_mb": peak_mb(), "customers_with_invoices": len(result)}


CHILDREN = {"ours": run_ours, "ours_pandas": run_pandas, "duckdb": run_duckdb}


def child(kind: str, book: Path, out: Path) -> dict:
    """Run one measurement in a fresh process; returns its JSON line."""
    cmd = [sys.executable, __file__, "--child", kind, "--book-dir", str(book), "--out", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def agreement(ours: Path, duck: Path) -> dict:
    import numpy as np
    import pandas as pd

    a = pd.read_parquet(ours).set_index("customer_id")
    b = pd.read_parquet(duck).set_index("customer_id")
    joined = a.join(b, rsuffix="_duckdb", how="inner")
    out = {}
    for col in CORE:
        x, y = joined[col].to_numpy(float), joined[f"{col}_duckdb"].to_numpy(float)
        same = np.isclose(x, y, rtol=1e-6, atol=0.02) | (np.isnan(x) & np.isnan(y))
        out[col] = round(float(same.mean()), 6)
    return out


def ensure_book(book_dir: Path, n: int) -> Path:
    folder = book_dir / f"book_{n}"
    if not (folder / "invoices.parquet").exists():
        sys.path.insert(0, str(ROOT))
        from arrisk.ledger.generator import write_book

        print(f"generating {n:,} customers x 12 months -> {folder}", flush=True)
        write_book(folder, n_customers=n, months=12, seed=1)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--book-dir", type=Path, default=Path(os.environ.get("ARRISK_BENCH_DIR", "/tmp/arrisk_bench"))
    )
    parser.add_argument("--child", choices=list(CHILDREN))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(CHILDREN[args.child](args.book_dir, args.out)))
        return
    results = {
        "as_of": AS_OF,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_start": os.getloadavg(),
        },
        "targets_1m": {"total_s": 60, "peak_gb": 6, "ratio_vs_duckdb": 2},
        "sizes": {},
    }
    for n in (int(s) for s in args.sizes.split(",")):
        book = ensure_book(args.book_dir, n)
        runs: dict[str, list[dict]] = {kind: [] for kind in CHILDREN}
        for _ in range(args.repeats):  # interleaved, so all see the same load on a shared machine
            for kind in CHILDREN:
                runs[kind].append(child(kind, book, args.book_dir / f"{kind}_{n}.parquet"))
        load_avg = os.getloadavg()
        ours, pandas_, duck = runs["ours"], runs["ours_pandas"], runs["duckdb"]
        ours_s, duck_s = (statistics.median(r["total_s"] for r in rs) for rs in (ours, duck))
        pandas_med = {
            k: statistics.median(r[k] for r in pandas_) for k in ("load_s", "build_s", "total_s", "peak_mb")
        }
        results["sizes"][str(n)] = {
            "ours": {"engine": "sql", "total_s": ours_s,
                     "peak_mb": statistics.median(r["peak_mb"] for r in ours),
                     "input_rows": ours[0]["input_rows"], "customers": ours[0]["customers"],
                     "open_invoices": ours[0]["open_invoices"], "rows_per_s": ours[0]["input_rows"] / ours_s,
                     "threads": ours[0]["threads"], "runs_total_s": [round(r["total_s"], 2) for r in ours]},
            "ours_pandas": {"engine": "pandas", **pandas_med, "workers": pandas_[0]["workers"],
                            "runs_total_s": [round(r["total_s"], 2) for r in pandas_]},
            "duckdb": {"total_s": duck_s, "peak_mb": statistics.median(r["peak_mb"] for r in duck),
                       "runs_total_s": [round(r["total_s"], 2) for r in duck]},
            "load_average_after": [round(x, 2) for x in load_avg],
            "ratio_total_vs_duckdb": ours_s / duck_s,
            "ratio_per_pair": [round(o["total_s"] / d["total_s"], 2)
                               for o, d in zip(ours, duck, strict=True)],
            "ratio_pandas_total_vs_duckdb": pandas_med["total_s"] / duck_s,
            "sql_over_pandas_engine": ours_s / pandas_med["total_s"],
            "agreement_with_duckdb": agreement(args.book_dir / f"ours_{n}.parquet",
                                               args.book_dir / f"duckdb_{n}.parquet"),
            "agreement_with_pandas_engine": agreement(args.book_dir / f"ours_{n}.parquet",
                                                      args.book_dir / f"ours_pandas_{n}.parquet"),
        }  # fmt: skip
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2))
    header = ("customers", "ours s", "peak MB", "pandas s", "duckdb s", "ratio")
    print(" ".join(f"{h:>9}" for h in header))
    for n, r in results["sizes"].items():
        cells = (
            r["ours"]["total_s"],
            r["ours"]["peak_mb"],
            r["ours_pandas"]["total_s"],
            r["duckdb"]["total_s"],
        )
        print(
            f"{int(n):>9,} " + " ".join(f"{c:>9.1f}" for c in cells) + f" {r['ratio_total_vs_duckdb']:>9.2f}"
        )
    print(f"-> {RESULTS}")


if __name__ == "__main__":
    main()
