"""Benchmark: train both models (late payment + days-late quantiles, default risk) on a generated book.

Each model runs as ``arrisk train --config experiments/<name>.yaml`` would: the experiment's LightGBM
settings, customer sample and quantile-row cap, with MLflow logging and registration into a throw-away
local store. Only the as-of dates are laid over the generated book (``--train-dates`` month ends,
``--date-step`` months apart, ending at the label embargo; one validation month end), and the rolling
backtest is off unless ``--backtest-origins`` asks for it (each origin costs about one more fit).

Generating the book is timed apart from training. Training phases per model: ``features_s`` (cutting
the sample out of the book, as-of snapshots and labels), ``fit_s`` (early stopping, out-of-fold
calibration, final booster, baselines), ``log_s`` (MLflow: plots, SHAP, reference sample, model,
registry), and for the quantile model ``payment_date_fit_s`` / ``payment_date_log_s``.

``--compare`` (meant for ~100k customers) measures what the customer sample costs in accuracy: on the
same book it builds the full table once (features depend only on a customer's own rows, so a sample's
rows are the full table's rows of its customers), fits the model on all customers and on samples of
``--compare-samples`` customers, and scores every one on the same validation rows (all customers).

    .venv/bin/python benchmarks/train.py --customers 2000 20000 --out benchmarks/results/train-local.json
    .venv/bin/python benchmarks/train.py --customers 1000000 --repeats 1 \
        --out benchmarks/results/train-1m-local.json
    .venv/bin/python benchmarks/train.py --customers 100000 --repeats 1 --compare \
        --out benchmarks/results/train-100k-local.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# Run as a script, benchmarks/ comes first on sys.path and its features.py would shadow the package.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RESULTS = Path(__file__).resolve().parent / "results"
MODELS = ("default_risk", "late_payment")


def experiment(frames: Any, name: str, args: argparse.Namespace) -> Any:
    """experiments/<name>.yaml with its as-of dates laid over ``frames``."""
    from training.config import load_config
    from training.ledger_data import as_of_plan

    config = load_config(ROOT / "experiments" / f"{name}.yaml")
    train, valid = as_of_plan(frames, horizon_days=config.label.horizon_days, n_valid=1)
    dates = train[::-1][:: args.date_step][: args.train_dates][::-1]
    update: dict[str, Any] = {
        "train_as_of": dates,
        "valid_as_of": valid,
        "backtest_origins": args.backtest_origins,
    }
    if args.no_sample:
        update["sample"] = config.sample.model_copy(update={"customers": None, "valid_customers": None})
    return config.model_copy(update=update)


def one_run(n_customers: int, args: argparse.Namespace, seed: int) -> dict[str, Any]:
    from arrisk.ledger.generator import generate_book
    from features.source import BOOK_COLUMNS
    from training.runner import run_experiment

    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    # as ``arrisk train`` generates its book: only the columns features and labels read
    frames = generate_book(n_customers=n_customers, months=args.months, seed=seed, columns=BOOK_COLUMNS)
    out["generate_s"] = time.perf_counter() - t0
    out["invoices"] = len(frames.invoices)
    _say(f"generated {n_customers:,} customers, {len(frames.invoices):,} invoices: {out['generate_s']:.1f} s")
    cache: dict = {}  # the sampled books and snapshots both models share
    # ARRISK_HOME points at a temporary folder (main), so MLflow artifacts land there too.
    with tempfile.TemporaryDirectory(prefix="mlflow-", dir=os.environ["ARRISK_HOME"]) as tmp:
        uri = f"sqlite:///{tmp}/mlflow.db"
        t_train = time.perf_counter()
        for name in MODELS:
            config = experiment(frames, name, args)
            timings: dict[str, float] = {}
            result = run_experiment(config, frames, tracking_uri=uri, snapshots=cache, timings=timings)
            ev = result.evaluation
            assert ev is not None
            out.update({f"{name}_{k}": v for k, v in timings.items() if not k.startswith("payment_date")})
            out.update({k: v for k, v in timings.items() if k.startswith("payment_date")})
            _say(f"{name}: " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
            out[f"{name}_train_as_of"] = [str(d) for d in config.train_as_of]
            out[f"{name}_valid_as_of"] = [str(d) for d in config.valid_as_of]
            out[f"{name}_train_rows"] = len(ev.train_rows)
            out[f"{name}_valid_rows"] = len(ev.valid_rows)
            out[f"{name}_train_customers"] = int(ev.train_rows["customer_id"].nunique())
            out[f"{name}_valid_customers"] = int(ev.valid_rows["customer_id"].nunique())
            out[f"{name}_trees"] = ev.model.best_iteration_
            for key in ("valid_roc_auc", "valid_pr_auc", "valid_ece", "scorecard_valid_roc_auc"):
                out[f"{name}_{key}"] = result.metrics.get(key)
            if result.payment_date:
                out["payment_date_valid_coverage"] = result.payment_date.get("valid_coverage_p10_p90")
        out["train_total_s"] = time.perf_counter() - t_train
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # book included
    out["train_phases_s"] = sum(v for k, v in out.items() if k.endswith(PHASES))
    return out


NOT_PHASES = {"generate_s", "train_total_s", "train_phases_s"}
# top-level phases; features_s splits further into sample_s, snapshots_s and labels_s
PHASES = ("_features_s", "_fit_s", "_log_s")


def _say(message: str) -> None:
    print(time.strftime("%H:%M:%S"), message, file=sys.stderr, flush=True)


def compare(n_customers: int, args: argparse.Namespace, seed: int, partial: Any = None) -> dict[str, Any]:
    """Full-book model vs customer-sample models, scored on the same validation rows."""
    import numpy as np

    from arrisk.ledger.generator import generate_book
    from features.source import BOOK_COLUMNS
    from training.job import RunSpec, fit_risk_model
    from training.ledger_data import build_training_table, sampled_customer_ids
    from training.metrics import classification_metrics
    from training.validation import split_by_dates

    frames = generate_book(n_customers=n_customers, months=args.months, seed=seed, columns=BOOK_COLUMNS)
    cache: dict = {}
    out: dict[str, Any] = {"customers": n_customers, "invoices": len(frames.invoices), "models": {}}
    for name in MODELS:
        config = experiment(frames, name, args)
        full_config = config.model_copy(
            update={"sample": config.sample.model_copy(update={"customers": None, "valid_customers": None})}
        )
        t0 = time.perf_counter()
        table = build_training_table(frames, full_config, snapshots=cache)
        features_s = time.perf_counter() - t0
        train, valid = split_by_dates(table, config.train_as_of, config.valid_as_of)
        y_valid = table.y(valid)
        rows: list[dict[str, Any]] = []
        variants: list[tuple[str, int | None]] = [("all customers", None)]
        variants += [(f"sample of {n:,}", n) for n in args.compare_samples]
        if args.compare_previous:
            variants.append(("all customers, previous settings (lr 0.1, 3 folds)", None))
        for variant, n_sample in variants:
            spec = RunSpec.from_config(config)
            if "previous" in variant:
                from training.demo import DEMO_LIGHTGBM

                spec.lightgbm = DEMO_LIGHTGBM
            sample = config.sample.model_copy(update={"customers": n_sample})
            if n_sample is None:
                fit_train, fit_valid, in_sample = train, valid, np.zeros(len(valid), dtype=bool)
            else:
                train_ids, valid_ids = sampled_customer_ids(frames, sample)
                fit_train = train[train["customer_id"].isin(train_ids)]
                fit_valid = valid[valid["customer_id"].isin(valid_ids)]
                in_sample = valid["customer_id"].isin(train_ids).to_numpy()
            t0 = time.perf_counter()
            model = fit_risk_model(table, spec, fit_train, fit_valid)
            fit_s = time.perf_counter() - t0
            scores = model.predict_proba(table.X(valid))
            on_all = classification_metrics(y_valid, scores)
            unseen = classification_metrics(y_valid[~in_sample], scores[~in_sample])
            rows.append(
                {
                    "variant": variant,
                    "train_customers": int(fit_train["customer_id"].nunique()),
                    "train_rows": len(fit_train),
                    "early_stopping_rows": len(fit_valid),
                    "fit_s": fit_s,
                    "trees": model.best_iteration_,
                    "valid_roc_auc": on_all["roc_auc"],
                    "valid_pr_auc": on_all["pr_auc"],
                    "valid_ece": on_all["ece"],
                    "valid_roc_auc_customers_not_in_sample": unseen["roc_auc"],
                }
            )
            print(name, rows[-1], flush=True)
        out["models"][name] = {
            "features_s_all_customers": features_s,
            "train_as_of": [str(d) for d in config.train_as_of],
            "valid_as_of": [str(d) for d in config.valid_as_of],
            "valid_rows": len(valid),
            "fits": rows,
        }
        if partial is not None:
            partial(out)  # written after each model, so a cut-off run keeps what it measured
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[2000])
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--train-dates", type=int, default=4, help="training as-of dates (month ends)")
    parser.add_argument("--date-step", type=int, default=2, help="months between training as-of dates")
    parser.add_argument("--backtest-origins", type=int, default=0)
    parser.add_argument("--no-sample", action="store_true", help="train on every customer of the book")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--compare", action="store_true", help="also measure the sample's accuracy cost")
    parser.add_argument("--compare-samples", type=int, nargs="+", default=[10_000, 25_000])
    parser.add_argument(
        "--compare-previous", action="store_true", help="also fit all customers with the demo settings"
    )
    parser.add_argument("--no-train", action="store_true", help="only --compare")
    parser.add_argument("--append", action="store_true", help="add these runs to those already in --out")
    parser.add_argument("--note", default="", help="stored in the JSON (how the run was made)")
    parser.add_argument("--out", type=Path, default=RESULTS / "train.json")
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="arrisk-bench-train-")
    os.environ["ARRISK_HOME"] = home  # before anything reads the settings
    try:
        run(args)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def run(args: argparse.Namespace) -> None:
    results: list[dict[str, Any]] = []
    comparisons: list[dict[str, Any]] = []
    earlier: dict[int, list[dict[str, Any]]] = {}
    if args.append and args.out.exists():  # one locked run at a time, medians over all of them
        previous = json.loads(args.out.read_text(encoding="utf-8"))
        earlier = {r["customers"]: r["runs"] for r in previous.get("results", [])}
    for n in args.customers:
        if not args.no_train:
            runs = [*earlier.get(n, []), *(one_run(n, args, seed=7 + r) for r in range(args.repeats))]
            median = {
                k: statistics.median(r[k] for r in runs)
                for k in runs[-1]
                if isinstance(runs[-1][k], int | float) and all(r.get(k) is not None for r in runs)
            }
            results.append({"customers": n, "repeats": len(runs), "median": median, "runs": runs})
            phases = ", ".join(
                f"{k} {v:.1f}" for k, v in median.items() if k.endswith("_s") and k not in NOT_PHASES
            )
            print(
                f"{n:>9,} customers {median['invoices']:>11,.0f} invoices: "
                f"generate {median['generate_s']:.1f} s, train {median['train_total_s']:.1f} s ({phases})",
                flush=True,
            )
        if args.compare:
            comparisons.append(
                compare(n, args, seed=7, partial=lambda c: write(args, results, [*comparisons, c]))
            )
    write(args, results, comparisons)


def write(args: argparse.Namespace, results: list, comparisons: list) -> None:
    payload: dict[str, Any] = {
        "benchmark": "train",
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "months": args.months,
        "train_dates": args.train_dates,
        "date_step_months": args.date_step,
        "backtest_origins": args.backtest_origins,
        "configs": "experiments/default_risk.yaml, experiments/late_payment.yaml (as-of dates from the book)",
        "mlflow_logging": "included (local SQLite store in a temporary folder)",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "results": results,
    }
    if comparisons:
        payload["sample_cost"] = comparisons
    if args.note:
        payload["note"] = args.note
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
