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
import sys
import tempfile
import time
from pathlib import Path

from sidebyside import add_arguments, commit, run_child, trees

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    add_arguments(parser)
    args = parser.parse_args()
    if args.child:
        child(args.code or ROOT, args.customers)
        return
    checkouts = trees(ROOT, args.code)
    runs: dict[str, list[dict]] = {name: [] for name in checkouts}
    for _ in range(args.runs):  # alternating, so both see the same load
        for name, code in checkouts.items():
            runs[name].append(run_child(__file__, code, ["--customers", str(args.customers)]))
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
                "commit": commit(code),
                "median_seconds": statistics.median(r["seconds"] for r in runs[name]),
                "rows_per_second": round(
                    runs[name][0]["rows"] / statistics.median(r["seconds"] for r in runs[name])
                ),
                "runs_seconds": [r["seconds"] for r in runs[name]],
            }
            for name, code in checkouts.items()
        },
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2))
    for name, result in out["results"].items():
        print(f"{name}: {result['median_seconds']} s median ({result['rows_per_second']:,} rows/s)")


if __name__ == "__main__":
    main()
