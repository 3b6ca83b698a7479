"""Drift report timing: the champion's reference sample vs a 100k-customer scoring snapshot.

Data: ``arrisk.ledger.generator.generate_book(n_customers=N, months=M)``; reference = customer
features at two month-ends in the first half of the book, sampled to ``--reference-rows`` (what
training logs as ``reference/features.parquet``); current = every customer at the book's last
month-end. Every customer feature (the full set) is compared. Timed per repeat: numpy PSI on all
rows, Evidently's DataDriftPreset (PSI) on all rows, the HTML written, and ``drift_between`` end to
end (PSI + Evidently + summary + HTML, no MLflow). Writes benchmarks/results/drift.json.

    .venv/bin/python benchmarks/drift.py                 # 100k customers, 3 repeats
    .venv/bin/python benchmarks/drift.py --customers 5000 --repeats 1   # quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
# benchmarks/feature_snapshot.py would shadow the ``features`` package: import from the repository root
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]
RESULTS = ROOT / "benchmarks" / "results" / "drift.json"


def _timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - started


def build_frames(n_customers: int, months: int, reference_rows: int, seed: int) -> dict:  # type: ignore[type-arg]
    from arrisk.ledger.generator import generate_book
    from features.pipeline import build_snapshot

    book, t_book = _timed(generate_book, n_customers=n_customers, months=months, seed=seed)
    end = pd.Timestamp(book.invoices["issue_date"].max()).to_period("M").start_time - pd.Timedelta(days=1)
    ref_dates = [end - pd.DateOffset(months=k) for k in (months // 2, months // 2 - 1)]
    ref_dates = [(d + pd.offsets.MonthEnd(0)).normalize() for d in ref_dates]
    parts, t_ref = [], 0.0
    for day in ref_dates:
        snap, seconds = _timed(build_snapshot, book, day)
        parts.append(snap.customers)
        t_ref += seconds
    reference = pd.concat(parts, ignore_index=True)
    reference = reference.sample(min(reference_rows, len(reference)), random_state=seed)
    current, t_cur = _timed(build_snapshot, book, end)
    return {
        "reference": reference,
        "current": current.customers,
        "as_of": str(end.date()),
        "reference_as_of": [str(d.date()) for d in ref_dates],
        "setup_s": {"generate_book": t_book, "reference_snapshots": t_ref, "current_snapshot": t_cur},
        "n_invoices": len(book.invoices),
    }


def run_once(data: dict, features: list[str], policy, home: Path) -> dict[str, float]:  # type: ignore[no-untyped-def,type-arg]
    from arrisk.settings import Settings
    from training.monitoring.drift import evidently_drift
    from training.monitoring.psi import psi_table
    from training.monitoring.runs import drift_between

    ref, cur = data["reference"], data["current"]
    _, t_psi = _timed(psi_table, ref, cur, features, n_bins=policy.n_bins)
    (snapshot, _), t_ev = _timed(evidently_drift, ref, cur, features, policy=policy)
    _, t_html = _timed(snapshot.save_html, str(home / "bench.html"))
    meta = {"model": "default_risk", "version": 0, "entity": "customer", "as_of": data["as_of"]}
    summary, t_total = _timed(
        drift_between,
        ref,
        cur,
        settings=Settings(home=home),
        meta=meta,
        features=features,
        policy=policy,
        log_to_mlflow=False,
    )
    return {
        "psi_numpy_s": t_psi,
        "evidently_run_s": t_ev,
        "evidently_html_s": t_html,
        "drift_report_total_s": t_total,
        "html_bytes": (home / "bench.html").stat().st_size,
        "drifted_share": summary["drifted_share"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--reference-rows", type=int, default=50_000, help="training's reference sample size")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    from features.pipeline import customer_feature_names
    from training.monitoring.policy import load_policy

    features = customer_feature_names()
    # Evidently on every row (the default policy samples 50k per side; the benchmark does not)
    policy = load_policy().drift.model_copy(
        update={"evidently_max_rows": max(args.customers, args.reference_rows)}
    )
    data = build_frames(args.customers, args.months, args.reference_rows, args.seed)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeats):
            runs.append(run_once(data, features, policy, Path(tmp)))
            print(f"repeat {i + 1}/{args.repeats}: " + ", ".join(f"{k} {v:.2f}" for k, v in runs[-1].items()))
    keys = [k for k in runs[0] if k.endswith("_s")]
    median = {k: statistics.median(r[k] for r in runs) for k in keys}
    result = {
        "benchmark": "drift",
        "data": {
            "source": "arrisk.ledger.generator.generate_book",
            "n_customers": args.customers,
            "months": args.months,
            "seed": args.seed,
            "n_invoices": data["n_invoices"],
            "n_reference_rows": len(data["reference"]),
            "n_current_rows": len(data["current"]),
            "n_features": len(features),
            "as_of": data["as_of"],
            "reference_as_of": data["reference_as_of"],
        },
        "setup_s": {k: round(v, 2) for k, v in data["setup_s"].items()},
        "median_s": {k: round(v, 3) for k, v in median.items()},
        "runs": runs,
        "html_bytes": runs[-1]["html_bytes"],
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(
        f"\ndrift report, {len(data['current'])} current x {len(data['reference'])} reference rows x "
        f"{len(features)} features (median of {args.repeats}):"
    )
    print(f"  {'step':<24}{'seconds':>10}")
    for key, value in median.items():
        print(f"  {key:<24}{value:>10.2f}")
    print(f"setup: {result['setup_s']}  ->  {args.out}")


if __name__ == "__main__":
    main()
