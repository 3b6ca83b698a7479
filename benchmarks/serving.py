"""Benchmark the risk API on loopback: worklist pages, score + explanation, plain scoring vs mlflow serve.

Builds a store (generated book, imported), registers champions, refreshes the worklist, then starts
``arrisk serve`` and ``mlflow models serve --env-manager local`` for the same champion and drives both
with concurrent httpx clients (and wrk, where installed) for a fixed time per scenario. Writes
benchmarks/results/serving.json and prints a table. The served book defaults to 100k customers at
5.2x the generator's invoice rate over six months (about 1M open invoices on the as-of date); the
models are trained on a separate 12-month book at the default rate. Building takes a while (the
import and training dominate), so build once and load the store again with ``--home``::

    .venv/bin/python benchmarks/serving.py --build-only          # prints the store's folder
    .venv/bin/python benchmarks/serving.py --home /tmp/arrisk-bench-serving-XXXX --runs 3 \
        --seconds 10 --concurrency 4                             # medians of 3 runs
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# This script is named like the package it benchmarks: keep its folder off the import path.
HERE = Path(__file__).resolve().parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]
AS_OF = "2025-12-15"
STORE_FILE = "benchmark-store.json"  # what build_store measured, kept beside the store for reuse runs


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_store(
    home: Path,
    customers: int,
    months: int,
    seed: int,
    *,
    start: str,
    invoice_rate: float,
    train_customers: int,
) -> dict[str, Any]:
    """Generate, import, train champions, refresh the worklist; returns timings and sizes.

    The models are trained on a separate book of ``train_customers`` customers at the default invoice
    rate over 12 months (the served book may be too short for the training plan's month-ends and label
    embargo); the served book is the one imported and scored.
    """
    import datetime as dt

    from arrisk.ledger.generator import generate_book
    from arrisk.ledger.importer import import_frames
    from arrisk.settings import get_settings
    from arrisk.store.db import get_engine
    from serving.demo import ensure_demo_models, prepare_demo_service
    from serving.model_store import ModelStore
    from serving.settings import get_serving_settings
    from serving.worklist.refresh import refresh_worklist

    get_settings.cache_clear()
    settings = get_serving_settings()
    engine = get_engine(settings)
    t0 = time.perf_counter()
    frames = generate_book(
        n_customers=customers,
        months=months,
        seed=seed,
        start=dt.date.fromisoformat(start),
        invoice_rate=invoice_rate,
    )
    t1 = time.perf_counter()
    import_frames(engine, frames, source="benchmark")
    t2 = time.perf_counter()
    n_invoices = len(frames.invoices)
    del frames
    training_book = generate_book(n_customers=train_customers, months=12, seed=seed)
    ensure_demo_models(training_book, as_of=AS_OF, tracking_uri=settings.registry_uri)
    del training_book
    t3 = time.perf_counter()
    store = ModelStore(registry_uri=settings.registry_uri, cache_dir=settings.models_cache_dir)
    store.load_all()
    summary = refresh_worklist(engine, AS_OF, models=store)
    tokens = prepare_demo_service(engine, AS_OF)
    return {
        "customers": customers,
        "months": months,
        "start": start,
        "invoice_rate": invoice_rate,
        "training_book": {"customers": train_customers, "months": 12, "start": "2025-01-01", "seed": seed},
        "invoices": n_invoices,
        "open_invoices": summary.n_invoices,
        "worklist_customers": summary.n_customers,
        "seconds": {
            "generate": round(t1 - t0, 1),
            "import": round(t2 - t1, 1),
            "train": round(t3 - t2, 1),
            "refresh": summary.seconds,
        },
        "refresh_stages": summary.stages,
        "refresh_rows_per_second": summary.rows_per_second,
        "tokens": tokens,
        "run_id": summary.run_id,
    }


def _wait(url: str, timeout: float = 180.0) -> None:
    import httpx

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up in {timeout} s")


async def _drive(make_request: Any, *, seconds: float, concurrency: int) -> dict[str, float]:
    """Closed loop: ``concurrency`` clients each send the next request when the last one answered."""
    import httpx

    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < stop:
                method, url, kwargs = make_request()
                start = time.perf_counter()
                response = await client.request(method, url, **kwargs)
                latencies.append(time.perf_counter() - start)
                errors += response.status_code >= 400

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    ms = np.array(latencies) * 1000
    return {
        "requests": len(ms),
        "errors": errors,
        "req_per_s": round(len(ms) / elapsed, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
    }


def _wrk(
    url: str, headers: dict[str, str], body: str | None, *, seconds: float, concurrency: int
) -> dict[str, float]:
    """The same closed loop driven by wrk (C): the load generator then takes little of the 2 cores."""
    script = Path(tempfile.mkdtemp()) / "req.lua"
    lines = [f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items()]
    if body is not None:
        escaped = body.replace("\\", "\\\\").replace('"', '\\"')
        lines += [
            'wrk.method = "POST"',
            'wrk.headers["Content-Type"] = "application/json"',
            f'wrk.body = "{escaped}"',
        ]
    script.write_text("\n".join(lines) + "\n")
    cmd = ["wrk", "-t1", f"-c{concurrency}", f"-d{int(seconds)}s", "--latency", "-s", str(script), url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def pct(label: str) -> float:
        value = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return round(float(value.group(1)) * scale[value.group(2)], 2) if value else float("nan")

    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "client": "wrk",
        "req_per_s": float(rate.group(1)) if rate else float("nan"),
        "p50_ms": pct("50"),
        "p99_ms": pct("99"),
        "errors": int(errors.group(1)) if errors else 0,
    }


def _rows(home: Path, n: int) -> list[dict[str, float | None]]:
    import pandas as pd

    from serving.model_store import ModelStore
    from serving.settings import get_serving_settings
    from serving.tables import WorklistRun

    settings = get_serving_settings()
    store = ModelStore(registry_uri=settings.registry_uri, cache_dir=settings.models_cache_dir)
    store.load_all()
    model = store.get("default_risk").model
    from sqlalchemy import select

    from arrisk.store.db import get_engine

    with get_engine(settings).connect() as conn:
        path = conn.execute(select(WorklistRun.features_path).order_by(WorklistRun.run_id.desc())).scalar()
    frame = pd.read_parquet(path).sample(n=min(n, 10_000), random_state=0)[model.feature_names_]
    return [{k: (None if pd.isna(v) else float(v)) for k, v in r.items()} for r in frame.to_dict("records")]


def reuse_store(home: Path) -> dict[str, Any]:
    """A store an earlier run built (``--home``): new demo tokens, sizes from the newest worklist run."""
    from sqlalchemy import func, select

    from arrisk.settings import get_settings
    from arrisk.store.db import get_engine
    from arrisk.store.tables import Customer, Invoice
    from serving.demo import prepare_demo_service
    from serving.tables import WorklistInvoice, WorklistItem, WorklistRun

    get_settings.cache_clear()
    engine = get_engine()
    with engine.connect() as conn:
        run_id = conn.execute(select(func.max(WorklistRun.run_id))).scalar_one()
        items = conn.execute(select(func.count()).where(WorklistItem.run_id == run_id)).scalar_one()
        open_invoices = conn.execute(
            select(func.count()).where(WorklistInvoice.run_id == run_id)
        ).scalar_one()
        customers = conn.execute(select(func.count()).select_from(Customer)).scalar_one()
        invoices = conn.execute(select(func.count()).select_from(Invoice)).scalar_one()
    tokens = prepare_demo_service(engine, AS_OF)
    built = home / STORE_FILE
    return {
        "customers": customers,
        "invoices": invoices,
        "open_invoices": open_invoices,
        "worklist_customers": items,
        "reused": str(home),
        "tokens": tokens,
        "run_id": run_id,
        "build": json.loads(built.read_text()) if built.exists() else None,
    }


def run_load(
    info: dict[str, Any],
    home: Path,
    *,
    seconds: float,
    concurrency: int,
    env: dict[str, str],
    workers: int = 1,
) -> dict:
    api_port, mlflow_port = _port(), _port()
    api = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "serving.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(api_port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--workers",
            str(workers),
        ],
        cwd=ROOT,
        env=env,
    )
    mlflow = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "mlflow"),
            "models",
            "serve",
            "-m",
            "models:/default_risk@champion",
            "--env-manager",
            "local",
            "-h",
            "127.0.0.1",
            "-p",
            str(mlflow_port),
            "-w",
            "1",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base, mbase = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{mlflow_port}"
        _wait(f"{base}/health")
        _wait(f"{mbase}/ping")
        rows = _rows(home, 2000)
        head = {"Authorization": f"Bearer {info['tokens']['admin']}"}
        collector = {"Authorization": f"Bearer {info['tokens']['collector']}"}
        n_items = info["worklist_customers"]
        run_id = info["run_id"]
        columns = list(rows[0])

        def worklist() -> tuple:
            start = random.randint(0, max(n_items - 50, 0))
            return (
                "GET",
                f"{base}/v1/worklist",
                {"params": {"limit": 50, "cursor": f"{run_id}:{start}"}, "headers": head},
            )

        def worklist_collector() -> tuple:
            return "GET", f"{base}/v1/worklist", {"params": {"limit": 50}, "headers": collector}

        def score_explain() -> tuple:
            return (
                "POST",
                f"{base}/v1/score",
                {"json": {"rows": [random.choice(rows)], "explain": True}, "headers": head},
            )

        def score_plain() -> tuple:
            return "POST", f"{base}/v1/score", {"json": {"rows": [random.choice(rows)]}, "headers": head}

        def mlflow_plain() -> tuple:
            row = random.choice(rows)
            body = {"dataframe_split": {"columns": columns, "data": [[row[c] for c in columns]]}}
            return "POST", f"{mbase}/invocations", {"json": body}

        def score_batch() -> tuple:
            return "POST", f"{base}/v1/score", {"json": {"rows": random.sample(rows, 100)}, "headers": head}

        def mlflow_batch() -> tuple:
            sample = random.sample(rows, 100)
            body = {
                "dataframe_split": {"columns": columns, "data": [[r[c] for c in columns] for r in sample]}
            }
            return "POST", f"{mbase}/invocations", {"json": body}

        scenarios = {
            "worklist_page": worklist,
            "worklist_page_collector": worklist_collector,
            "score_with_explanation": score_explain,
            "score_plain_1_row": score_plain,
            "mlflow_serve_1_row": mlflow_plain,
            "score_plain_100_rows": score_batch,
            "mlflow_serve_100_rows": mlflow_batch,
        }
        results = {}
        for name, make in scenarios.items():
            asyncio.run(_drive(make, seconds=2, concurrency=concurrency))  # warm-up
            results[name] = asyncio.run(_drive(make, seconds=seconds, concurrency=concurrency))
            print(f"{name:28s} {results[name]}", flush=True)
        if shutil.which("wrk"):
            first_page = f"{base}/v1/worklist?limit=50"
            body = json.dumps({"rows": [rows[0]], "explain": True})
            for name, url, payload in (
                ("worklist_page_wrk", first_page, None),
                ("score_with_explanation_wrk", f"{base}/v1/score", body),
            ):
                results[name] = _wrk(url, head, payload, seconds=seconds, concurrency=concurrency)
                print(f"{name:28s} {results[name]}", flush=True)
        return results
    finally:
        for proc in (api, mlflow):
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def _medians(runs: list[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Per scenario, the median of each figure over the runs (requests and errors are summed)."""
    if len(runs) == 1:
        return runs[0]
    out: dict[str, dict[str, Any]] = {}
    for name in runs[0]:
        per = [r[name] for r in runs if name in r]
        merged: dict[str, Any] = {}
        for key, value in per[0].items():
            values = [p[key] for p in per]
            if key in ("requests", "errors"):
                merged[key] = int(sum(values))
            elif isinstance(value, int | float):
                merged[key] = round(float(np.median(values)), 2)
            else:
                merged[key] = value
        out[name] = merged
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--start", default="2025-07-01", help="first day of the served book")
    parser.add_argument(
        "--invoice-rate",
        type=float,
        default=5.2,
        help="generator invoice rate of the served book (5.2: about 1M open invoices at 100k customers)",
    )
    parser.add_argument(
        "--train-customers", type=int, default=100_000, help="customers of the (12-month) training book"
    )
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "serving.json")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes of the API")
    parser.add_argument("--home", type=Path, help="reuse the store an earlier run built (skips building)")
    parser.add_argument("--build-only", action="store_true", help="build the store, print its folder, stop")
    parser.add_argument("--runs", type=int, default=1, help="load runs (fresh servers); medians")
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="arrisk-bench-serving-"))
    tracking = f"sqlite:///{home / 'mlflow.db'}"
    path = (
        f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"  # mlflow serve runs uvicorn
    )
    env = {
        **os.environ,
        "ARRISK_HOME": str(home),
        "PYTHONPATH": str(ROOT),
        "MLFLOW_TRACKING_URI": tracking,
        "PATH": path,
    }
    env.pop("ARRISK_DATABASE_URL", None)
    os.environ.update({"ARRISK_HOME": str(home), "MLFLOW_TRACKING_URI": tracking})
    info = (
        reuse_store(home)
        if args.home
        else build_store(
            home,
            args.customers,
            args.months,
            args.seed,
            start=args.start,
            invoice_rate=args.invoice_rate,
            train_customers=args.train_customers,
        )
    )
    if not args.home:
        (home / STORE_FILE).write_text(json.dumps({k: v for k, v in info.items() if k != "tokens"}))
    print(f"store: {json.dumps({k: v for k, v in info.items() if k != 'tokens'})}", flush=True)
    if args.build_only:
        print(f"store built in {home}; load it with --home {home}")
        return
    runs = [
        run_load(
            info, home, seconds=args.seconds, concurrency=args.concurrency, env=env, workers=args.workers
        )
        for _ in range(max(args.runs, 1))
    ]
    results = _medians(runs)
    ratio = {
        k: round(
            results[f"score_plain_{k}"]["req_per_s"] / max(results[f"mlflow_serve_{k}"]["req_per_s"], 1e-9), 2
        )
        for k in ("1_row", "100_rows")
    }
    out = {
        "script": "benchmarks/serving.py",
        "as_of": AS_OF,
        "concurrency": args.concurrency,
        "api_workers": args.workers,
        "seconds_per_scenario": args.seconds,
        "cpu_count": os.cpu_count(),
        "store": {k: v for k, v in info.items() if k != "tokens"},
        "runs": len(runs),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "results": results,
        "results_per_run": runs if len(runs) > 1 else None,
        "throughput_ratio_vs_mlflow": ratio,
        "targets": {
            "worklist_p99_ms<=20": results["worklist_page"]["p99_ms"] <= 20,
            # None: not measured (no wrk on this machine)
            "worklist_p99_ms<=20_wrk_client": (
                results["worklist_page_wrk"]["p99_ms"] <= 20 if "worklist_page_wrk" in results else None
            ),
            "score_explain_p99_ms<=20": results["score_with_explanation"]["p99_ms"] <= 20,
            "plain_scoring>=5x_mlflow": ratio["1_row"] >= 5,
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2, default=str))
    print(f"\n{'scenario':28s} {'req/s':>8s} {'p50 ms':>8s} {'p99 ms':>8s} {'errors':>7s}")
    for name, r in results.items():
        print(f"{name:28s} {r['req_per_s']:8.1f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {r['errors']:7d}")
    print(f"plain scoring vs mlflow serve (req/s ratio): {ratio}; targets: {out['targets']}")


if __name__ == "__main__":
    main()
