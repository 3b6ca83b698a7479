"""Benchmark: train both models (late payment + days-late quantiles, default risk) on a generated book.

Stages timed separately: generate the book, build labelled feature tables (as-of snapshots), fit each
RiskModel (early stopping, K-fold out-of-fold calibration, final booster) and the quantile model.
MLflow logging is left out (it is I/O, measured by the tests). Writes benchmarks/results/train.json.

    .venv/bin/python benchmarks/train.py --customers 2000 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

# Run as a script, benchmarks/ comes first on sys.path and its features.py would shadow the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RESULTS = Path(__file__).resolve().parent / "results"


def one_run(n_customers: int, *, months: int, train_dates: int, seed: int) -> dict[str, Any]:
    from arrisk.ledger.generator import generate_book
    from training.demo import DEMO_LIGHTGBM
    from training.job import RunSpec, fit_risk_model
    from training.ledger_data import as_of_plan, build_training_table
    from training.metrics import classification_metrics
    from training.payment_date_job import fit_payment_date
    from training.validation import split_by_dates

    timings: dict[str, Any] = {}
    t0 = time.perf_counter()
    frames = generate_book(n_customers=n_customers, months=months, seed=seed)
    timings["generate_s"] = time.perf_counter() - t0
    timings["invoices"] = len(frames.invoices)
    train_dates_all, valid = as_of_plan(frames, horizon_days=90, n_valid=1)
    from training.demo import demo_config

    snapshots: dict = {}
    for name in ("default_risk", "late_payment"):
        config = demo_config(frames, name).model_copy(
            update={"train_as_of": train_dates_all[-train_dates:], "valid_as_of": valid}
        )
        t0 = time.perf_counter()
        table = build_training_table(frames, config, snapshots=snapshots)
        timings[f"{name}_features_s"] = time.perf_counter() - t0
        train, val = split_by_dates(table, config.train_as_of, config.valid_as_of)
        spec = RunSpec.from_config(config)
        spec.lightgbm = DEMO_LIGHTGBM
        t0 = time.perf_counter()
        model = fit_risk_model(table, spec, train, val)
        timings[f"{name}_fit_s"] = time.perf_counter() - t0
        timings[f"{name}_rows"] = len(train)
        timings[f"{name}_trees"] = model.best_iteration_
        timings[f"{name}_valid_roc_auc"] = classification_metrics(
            table.y(val), model.predict_proba(table.X(val))
        )["roc_auc"]
        if name == "late_payment":
            t0 = time.perf_counter()
            fit_payment_date(table, train, val, seed=seed)
            timings["payment_date_fit_s"] = time.perf_counter() - t0
    timings["total_s"] = sum(v for k, v in timings.items() if k.endswith("_s"))
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[2000])
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--train-dates", type=int, default=8, help="training as-of dates (month ends)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS / "train.json")
    args = parser.parse_args()
    results = []
    for n in args.customers:
        runs = [
            one_run(n, months=args.months, train_dates=args.train_dates, seed=7 + r)
            for r in range(args.repeats)
        ]
        median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        results.append({"customers": n, "repeats": args.repeats, "median": median, "runs": runs})
        print(
            f"{n:>9,} customers  {median['invoices']:>11,.0f} invoices  total {median['total_s']:7.1f} s  "
            f"(features {median['default_risk_features_s'] + median['late_payment_features_s']:.1f} s, "
            f"fit default {median['default_risk_fit_s']:.1f} s, late {median['late_payment_fit_s']:.1f} s, "
            f"quantiles {median['payment_date_fit_s']:.1f} s)"
        )
    payload = {
        "benchmark": "train",
        "months": args.months,
        "train_dates": args.train_dates,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
