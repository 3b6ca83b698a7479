"""Benchmark: training labels of several as-of dates on one generated book, as training asks for them.

Training hands each as-of date's customers and open invoices (from its snapshot) to the labels and
keeps one cache of outcome cuts per book; this does the same: the book is read and the ids of each
date are taken before the clock starts, then the default-risk labels (90-day horizon) and the
late-payment labels of every date are timed. ``--code DIR`` runs the same children on another
checkout (a ``git worktree`` of an older commit), alternating with this one; a checkout whose
labels take no ``outcomes`` cache is called without one. Writes benchmarks/results/labels.json.

    .venv/bin/python benchmarks/labels.py [--book DIR] [--dates 5] [--runs 3] [--code /tmp/old_checkout]
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import statistics
import sys
import time
from pathlib import Path

from sidebyside import add_arguments, commit, run_child, trees

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "labels.json"
HORIZON_DAYS = 90


def child(code: Path, book: Path, n_dates: int) -> None:
    sys.path.insert(0, str(code))
    import pandas as pd

    from arrisk.ledger.frames import read_dir
    from features import labels
    from features.asof import clip_book
    from features.config import default_config
    from features.invoice_state import invoice_state

    frames = read_dir(book)
    end = labels.latest_event_date(frames)
    # month ends two months apart, the latest one a full horizon before the data's end
    last = (end - pd.Timedelta(days=HORIZON_DAYS)) - pd.offsets.MonthEnd(1)
    dates = [(last - pd.offsets.MonthEnd(2 * k)).normalize() for k in range(n_dates)]
    customers, open_invoices = {}, {}
    for day in dates:  # what each date's snapshot hands over
        book_then = clip_book(frames, day)
        customers[day] = book_then.customer_ids
        open_invoices[day] = book_then.invoice_ids[invoice_state(book_then, default_config())["is_open"]]
    out: dict = {"dates": [str(d.date()) for d in dates], "customers": len(frames.customers)}
    for kind, label, ids, extra in (
        ("default_risk", labels.customer_default_labels, customers, {"horizon_days": HORIZON_DAYS}),
        ("late_payment", labels.invoice_late_labels, open_invoices, {"late_days": 0}),
    ):
        id_arg = "customer_ids" if kind == "default_risk" else "open_ids"
        cache = {"outcomes": {}} if "outcomes" in inspect.signature(label).parameters else {}
        started = time.perf_counter()
        rows = [label(frames, day, data_end=end, **{id_arg: ids[day]}, **extra, **cache) for day in dates]
        out[f"{kind}_s"] = round(time.perf_counter() - started, 2)
        column = "default" if kind == "default_risk" else "late"
        out[f"{kind}_positives"] = int(sum(r[column].sum() for r in rows))
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--book",
        type=Path,
        default=Path(os.environ.get("ARRISK_BENCH_DIR", "/tmp/arrisk_bench")) / "book_100000",
        help="a generated Parquet book (benchmarks/feature_snapshot.py makes book_100000)",
    )
    parser.add_argument("--dates", type=int, default=5)
    add_arguments(parser)
    args = parser.parse_args()
    if args.child:
        child(args.code or ROOT, args.book.resolve(), args.dates)
        return
    checkouts = trees(ROOT, args.code)
    runs: dict[str, list[dict]] = {name: [] for name in checkouts}
    for _ in range(args.runs):  # alternating, so both see the same load
        for name, code in checkouts.items():
            child_args = ["--book", str(args.book.resolve()), "--dates", str(args.dates)]
            runs[name].append(run_child(__file__, code, child_args))
            print(f"{name}: {json.dumps(runs[name][-1])}", flush=True)
    out = {
        "script": "benchmarks/labels.py",
        "cpu_count": os.cpu_count(),
        "book": str(args.book),
        "customers": runs["this"][0]["customers"],
        "dates": runs["this"][0]["dates"],
        "results": {
            name: {
                "code": str(code),
                "commit": commit(code),
                **{
                    f"median_{kind}_s": statistics.median(r[f"{kind}_s"] for r in runs[name])
                    for kind in ("default_risk", "late_payment")
                },
                "runs": runs[name],
            }
            for name, code in checkouts.items()
        },
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2))
    for name, result in out["results"].items():
        print(
            f"{name}: default risk {result['median_default_risk_s']} s, "
            f"late payment {result['median_late_payment_s']} s (median of {args.runs})"
        )


if __name__ == "__main__":
    main()
