"""Benchmark: the batch refresh (``arrisk score --as-of DATE``) of a whole store, phase by phase.

Each run is a fresh child process (its peak RSS, from getrusage, is the refresh's own) that refreshes
the worklist of an existing store: load the ledger, build features, score, rank (with collection
states), explain, write the snapshot, record the served scores. The store is the one
``benchmarks/serving.py --build-only`` builds (``--home``), so the sizes match the serving benchmark.
Writes benchmarks/results/refresh.json (one entry per store size, kept across invocations) and prints
the medians.

    .venv/bin/python benchmarks/serving.py --build-only            # prints the store's folder
    .venv/bin/python benchmarks/refresh.py --home /tmp/arrisk-bench-serving-XXXX --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "refresh.json"
AS_OF = "2025-12-15"


def child(home: Path, as_of: str) -> None:
    """Inside the child: one refresh of the store under ``home``; prints its summary as JSON."""
    os.environ["ARRISK_HOME"] = str(home)
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{home / 'mlflow.db'}"
    sys.path.insert(0, str(ROOT))
    from arrisk.store.db import get_engine
    from serving.model_store import ModelStore
    from serving.settings import get_serving_settings
    from serving.worklist.refresh import refresh_worklist

    settings = get_serving_settings()
    store = ModelStore(registry_uri=settings.registry_uri, cache_dir=settings.models_cache_dir)
    store.load_all()
    started = time.perf_counter()
    summary = refresh_worklist(get_engine(settings), as_of, models=store)
    seconds = time.perf_counter() - started
    out = {
        "seconds": round(seconds, 2),
        "stages": summary.stages,
        "customers_scored": summary.n_customers,
        "open_invoices": summary.n_invoices,
        "rows_per_second": summary.rows_per_second,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    print(json.dumps(out))


def store_sizes(home: Path) -> dict[str, Any]:
    os.environ["ARRISK_HOME"] = str(home)
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import func, select

    from arrisk.store.db import get_engine
    from arrisk.store.tables import Customer, Invoice

    with get_engine().connect() as conn:
        customers = conn.execute(select(func.count()).select_from(Customer)).scalar_one()
        invoices = conn.execute(select(func.count()).select_from(Invoice)).scalar_one()
    built = home / "benchmark-store.json"
    extra = json.loads(built.read_text()) if built.exists() else {}
    keys = ("months", "start", "invoice_rate", "training_book")
    return {"customers": customers, "invoices": invoices, **{k: extra[k] for k in keys if k in extra}}


def run_once(home: Path, as_of: str) -> dict[str, Any]:
    args = [sys.executable, __file__, "--child", "--home", str(home), "--as-of", as_of]
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"refresh run failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def summarise(sizes: dict[str, Any], runs: list[dict[str, Any]], as_of: str) -> dict[str, Any]:
    names = runs[0]["stages"]
    stages = {name: round(statistics.median(r["stages"][name] for r in runs), 2) for name in names}
    seconds = statistics.median(r["seconds"] for r in runs)
    rows = runs[0]["customers_scored"] + runs[0]["open_invoices"]
    return {
        "store": sizes,
        "as_of": as_of,
        "runs": len(runs),
        "median_seconds": round(seconds, 2),
        "customers_scored": runs[0]["customers_scored"],
        "open_invoices": runs[0]["open_invoices"],
        "median_rows_per_second": round(statistics.median(r["rows_per_second"] for r in runs), 1),
        "rows_note": "rows/s counts every customer and open invoice scored (arrisk score's own figure)",
        "median_stage_seconds": stages,
        "median_stage_rows_per_second": {
            name: round(rows / s, 1) if s > 0 else None for name, s in stages.items()
        },
        "slowest_stage": max(stages, key=lambda name: stages[name]),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "all_runs": runs,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True, help="ARRISK_HOME of a built store")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--as-of", default=AS_OF)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--append", action="store_true", help="add to the runs recorded for this store size")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.home, args.as_of)
        return
    sizes = store_sizes(args.home)
    key = f"{sizes['customers']}_customers"
    existing = json.loads(args.out.read_text()) if args.out.exists() else {}
    earlier = existing.get("results", {}).get(key, {}) if args.append else {}
    runs = list(earlier.get("all_runs", []))
    for number in range(args.runs):
        runs.append(run_once(args.home, args.as_of))
        print(f"run {number + 1}: {json.dumps(runs[-1])}", flush=True)
    entry = summarise(sizes, runs, args.as_of)
    results = existing.get("results", {})
    results[key] = entry
    out = {
        "script": "benchmarks/refresh.py",
        "cpu_count": os.cpu_count(),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2))
    print(
        f"\n{key}: {entry['customers_scored']:,} customers scored, {entry['open_invoices']:,} open "
        f"invoices: {entry['median_seconds']} s median of {entry['runs']} "
        f"({entry['median_rows_per_second']:,} rows/s), peak {entry['peak_rss_mb']} MB"
    )
    for name, seconds in entry["median_stage_seconds"].items():
        print(f"  {name:14s} {seconds:8.2f} s")


if __name__ == "__main__":
    main()
