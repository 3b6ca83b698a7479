"""Time loading each real data set and importing it into a fresh SQLite store (median of 3 runs).

Writes benchmarks/results/datasets_import.json. Needs ../shared/data (or ARRISK_DATA_DIR).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from arrisk.datasets import load_dataset
from arrisk.ledger.importer import import_frames
from arrisk.store.db import make_engine, migrate

RUNS = 3
DATA = Path(os.environ.get("ARRISK_DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data"))
OUT = Path(__file__).parent / "results" / "datasets_import.json"


def main() -> None:
    if not DATA.is_dir():
        sys.exit(f"real data sets not found at {DATA} (set ARRISK_DATA_DIR)")
    results = {}
    for name in ["ibm-ar", "home-credit", "wwi", "uci-credit"]:
        loads, imports = [], []
        for _ in range(RUNS):
            t0 = time.perf_counter()
            bundle = load_dataset(name, DATA)
            t1 = time.perf_counter()
            engine = make_engine(f"sqlite:///{tempfile.mkdtemp()}/ledger.db")
            migrate(engine)
            t2 = time.perf_counter()
            import_frames(engine, bundle.frames, source=f"dataset:{name}")
            imports.append(time.perf_counter() - t2)
            loads.append(t1 - t0)
            engine.dispose()
        counts = bundle.row_counts()
        results[name] = {
            "rows": sum(counts.values()),
            "tables": counts,
            "load_s_median": round(statistics.median(loads), 2),
            "import_s_median": round(statistics.median(imports), 2),
            "runs": RUNS,
        }
        print(
            f"{name:12s} rows {results[name]['rows']:>9,}  load {results[name]['load_s_median']:6.2f} s  "
            f"import {results[name]['import_s_median']:6.2f} s",
            flush=True,
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"machine": f"{os.cpu_count()} cores", "datasets": results}, indent=2))


if __name__ == "__main__":
    main()
