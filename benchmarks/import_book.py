"""Benchmark: `arrisk import` of a generated book into a fresh SQLite store (validate, write, commit).

Each run is a fresh child process: generate the book (not timed), import it into an empty store under
a temporary ARRISK_HOME, report the import's seconds and rows. ``--code DIR`` runs the children on
another checkout of arrisk (e.g. a ``git worktree`` of an older commit), alternating with this one,
so a change is measured side by side on the same machine load. Writes benchmarks/results/import.json.

    .venv/bin/python benchmarks/import_book.py [--customers 10000] [--runs 3] [--code /tmp/old_checkout]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "import.json"
BOOK = {"months": 6, "start": "2025-07-01", "invoice_rate": 5.2, "seed": 1}


def child(code: Path, customers: int) -> None:
    import datetime as dt

    sys.path.insert(0, str(code))
    os.environ["ARRISK_HOME"] = tempfile.mkdtemp(prefix="arrisk-bench-import-")
    from arrisk.ledger.generator import generate_book
    from arrisk.ledger.importer import import_frames
    from arrisk.store.db import get_engine

    frames = generate_book(
        n_customers=customers,
        months=BOOK["months"],
        seed=BOOK["seed"],
        start=dt.date.fromisoformat(BOOK["start"]),
        invoice_rate=BOOK["invoice_rate"],
    )
    engine = get_engine()
    started = time.perf_counter()
    report = import_frames(engine, frames, source="benchmark")
    seconds = time.perf_counter() - started
    rows = sum(c["inserted"] for c in report.counts.values())
    print(json.dumps({"seconds": round(seconds, 2), "rows": rows, "invoices": len(frames.invoices)}))


def run(code: Path, customers: int) -> dict:
    args = [sys.executable, __file__, "--child", "--code", str(code), "--customers", str(customers)]
    done = subprocess.run(args, capture_output=True, text=True, cwd=code)
    if done.returncode != 0:
        raise SystemExit(f"import run failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _commit(code: Path) -> str | None:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=code)
    return done.stdout.strip() or None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--code", type=Path, help="another checkout to run side by side with this one")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.code or ROOT, args.customers)
        return
    trees = {"this": ROOT, **({"other": args.code.resolve()} if args.code else {})}
    runs: dict[str, list[dict]] = {name: [] for name in trees}
    for _ in range(args.runs):  # alternating, so both see the same load
        for name, code in trees.items():
            runs[name].append(run(code, args.customers))
            print(f"{name}: {json.dumps(runs[name][-1])}", flush=True)
    out = {
        "script": "benchmarks/import_book.py",
        "cpu_count": os.cpu_count(),
        "book": {"customers": args.customers, **BOOK},
        "rows": runs["this"][0]["rows"],
        "invoices": runs["this"][0]["invoices"],
        "results": {
            name: {
                "code": str(code),
                "commit": _commit(code),
                "median_seconds": statistics.median(r["seconds"] for r in runs[name]),
                "rows_per_second": round(
                    runs[name][0]["rows"] / statistics.median(r["seconds"] for r in runs[name])
                ),
                "runs_seconds": [r["seconds"] for r in runs[name]],
            }
            for name, code in trees.items()
        },
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2))
    for name, result in out["results"].items():
        print(f"{name}: {result['median_seconds']} s median ({result['rows_per_second']:,} rows/s)")


if __name__ == "__main__":
    main()
