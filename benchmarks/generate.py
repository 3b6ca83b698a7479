"""Benchmark: the synthetic book generator streaming Parquet at 100k and 1M customers x 12 months.

Each run is a fresh child process (so its peak RSS, from getrusage, is the generator's own), writing
to a temporary folder that is deleted afterwards. Writes benchmarks/results/generate.json and prints
a table of medians.

    .venv/bin/python benchmarks/generate.py                 # 3 runs at 100k, 1 at 1M
    .venv/bin/python benchmarks/generate.py --sizes 100000 --runs 5
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
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "generate.json"
DEFAULT_RUNS = {100_000: 3, 1_000_000: 1}


def child(customers: int, months: int, seed: int, out: Path) -> None:
    """Run inside the child: generate, then print timings, peak memory, rows and file sizes as JSON."""
    from arrisk.ledger.generator import write_book

    started = time.perf_counter()
    counts = write_book(out, n_customers=customers, months=months, seed=seed)
    seconds = time.perf_counter() - started
    sizes = {p.stem: p.stat().st_size for p in out.iterdir()}
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_mb, "rows": counts, "bytes": sizes}))


def run_once(customers: int, months: int, seed: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="arrisk-bench-") as tmp:
        args = [sys.executable, __file__, "--child", "--customers", str(customers), "--months", str(months)]
        started = time.perf_counter()
        done = subprocess.run(
            [*args, "--seed", str(seed), "--out", tmp], capture_output=True, text=True, check=True
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["process_seconds"] = time.perf_counter() - started
    return result


def summarise(customers: int, months: int, runs: list[dict]) -> dict:
    last = runs[-1]
    return {
        "customers": customers,
        "months": months,
        "runs": len(runs),
        "median_seconds": statistics.median(r["seconds"] for r in runs),
        "median_process_seconds": statistics.median(r["process_seconds"] for r in runs),
        "median_peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in runs),
        "seconds_each": [round(r["seconds"], 2) for r in runs],
        "rows": last["rows"],
        "parquet_mb": {k: round(v / 2**20, 1) for k, v in last["bytes"].items()},
        "parquet_total_mb": round(sum(last["bytes"].values()) / 2**20, 1),
    }


def print_table(results: list[dict]) -> None:
    print(f"{'customers':>10} {'months':>6} {'runs':>4} {'median s':>9} {'peak RSS MB':>11} {'invoices':>11} "
          f"{'payments':>10} {'allocations':>11} {'parquet MB':>10}")  # fmt: skip
    for r in results:
        rows = r["rows"]
        print(
            f"{r['customers']:>10,} {r['months']:>6} {r['runs']:>4} {r['median_seconds']:>9.1f} "
            f"{r['median_peak_rss_mb']:>11.0f} {rows['invoices']:>11,} {rows['payments']:>10,} "
            f"{rows['allocations']:>11,} {r['parquet_total_mb']:>10.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=list(DEFAULT_RUNS))
    parser.add_argument("--runs", type=int, default=None, help="runs per size (default: 3 at 100k, 1 at 1M)")
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--customers", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.customers, args.months, args.seed, args.out)
        return
    results = []
    for size in args.sizes:
        runs = [run_once(size, args.months, args.seed) for _ in range(args.runs or DEFAULT_RUNS.get(size, 1))]
        results.append(summarise(size, args.months, runs))
        print_table(results[-1:])
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    machine = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "note": "shared machine: other jobs may run at the same time",
    }
    payload = {
        "benchmark": "generate",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine,
    }
    RESULTS.write_text(json.dumps({**payload, "results": results}, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten {RESULTS}")
    print_table(results)


if __name__ == "__main__":
    main()
