"""Benchmark: reading an interchange folder whole against the lean read features and training use.

``read_dir(folder)`` reads every column; ``read_dir(folder, BOOK_COLUMNS)`` (``arrisk train --source``,
``arrisk features build --source`` on a CSV folder) only those features and labels read. Each read
runs in a fresh process (its own peak memory), the two alternating; medians go to
benchmarks/results/read_folder.json.

    .venv/bin/python benchmarks/read_folder.py [--customers 1000000] [--repeats 3] [--book-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "read_folder.json"


def child(folder: Path, lean: bool) -> dict:
    import resource
    import time

    from arrisk.ledger.frames import read_dir
    from features.source import BOOK_COLUMNS

    t0 = time.perf_counter()
    frames = read_dir(folder, BOOK_COLUMNS if lean else None)
    seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "frames_mb": sum(int(f.memory_usage(deep=True).sum()) for _, f in frames.items()) / 1e6,
        "rows": {name: len(f) for name, f in frames.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--book-dir", type=Path, default=Path(os.environ.get("ARRISK_BENCH_DIR", "/tmp/arrisk_bench"))
    )
    parser.add_argument("--child", choices=["whole", "lean"])
    args = parser.parse_args()
    folder = args.book_dir / f"book_{args.customers}"
    sys.path.insert(0, str(ROOT))
    if args.child:
        print(json.dumps(child(folder, args.child == "lean")))
        return
    if not (folder / "invoices.parquet").exists():
        from arrisk.ledger.generator import write_book

        print(f"generating {args.customers:,} customers x 12 months -> {folder}", flush=True)
        write_book(folder, n_customers=args.customers, months=12, seed=1)
    runs: dict[str, list[dict]] = {"whole": [], "lean": []}
    for _ in range(args.repeats):
        for kind in runs:
            cmd = [sys.executable, __file__, "--child", kind, "--customers", str(args.customers),
                   "--book-dir", str(args.book_dir)]  # fmt: skip
            done = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
            runs[kind].append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(kind, {k: round(v, 1) for k, v in runs[kind][-1].items() if k != "rows"}, flush=True)
    medians = {
        kind: {m: round(statistics.median(r[m] for r in rs), 2) for m in ("seconds", "peak_mb", "frames_mb")}
        for kind, rs in runs.items()
    }
    result = {
        "book": {
            "customers": args.customers,
            "months": 12,
            "format": "parquet",
            "rows": runs["whole"][0]["rows"],
        },
        "cpus": os.cpu_count(),
        "repeats": args.repeats,
        "median": medians,
        "runs_seconds": {kind: [round(r["seconds"], 2) for r in rs] for kind, rs in runs.items()},
        "lean_speedup": round(medians["whole"]["seconds"] / medians["lean"]["seconds"], 2),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    print(json.dumps(medians), f"-> {RESULTS}")


if __name__ == "__main__":
    main()
