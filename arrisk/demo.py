"""``arrisk demo``: the one place that shows the whole product working on a generated book.

Generate a book, import it, print the aging report, train and register both models, refresh the
worklist, dry-run dunning, print the drift summary, then serve the API on 127.0.0.1.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.rule import Rule

console = Console(width=130)


def _step(title: str, fn: Callable[[], Any]) -> Any:
    console.print(Rule(title))
    started = time.perf_counter()
    result = fn()
    console.print(f"[dim]{title}: {time.perf_counter() - started:.1f} s[/]")
    return result


def demo(
    customers: Annotated[int, typer.Option(help="customers in the generated book")] = 2000,
    months: Annotated[int, typer.Option(help="months of history")] = 12,
    seed: Annotated[int, typer.Option(help="generator seed")] = 7,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="end by serving the API")] = True,
    port: Annotated[int, typer.Option(help="port on 127.0.0.1")] = 8000,
) -> None:
    """Generate a book, import, aging, train, score, dunning dry run, drift, then serve."""
    from arrisk.settings import get_settings
    from arrisk.store.db import get_engine

    settings = get_settings()
    settings.ensure_home()
    engine = _step("store", lambda: get_engine(settings))
    console.print(f"database: {engine.url.render_as_string(hide_password=True)}")
    frames = _step("generate a book", lambda: _generate(settings, customers, months, seed))
    as_of = (pd.Timestamp(frames.invoices["issue_date"].max()) + pd.Timedelta(days=1)).date()
    _step("import into the store", lambda: _import(engine, frames))
    _step(f"aging as of {as_of}", lambda: _aging(frames, as_of, settings.base_currency))
    stages: list[tuple[str, Callable[[], Any]]] = [
        ("train and register models", lambda: _train(frames, settings)),
        ("refresh the worklist", lambda: _score(engine, as_of)),
        ("dunning dry run", lambda: _dunning(engine, as_of)),
        ("drift summary", lambda: _drift(frames, settings, as_of)),
    ]
    for title, fn in stages:
        _step(title, fn)
    console.print(Rule("where things are"))
    console.print(f"ARRISK_HOME: {settings.home.resolve()}")
    console.print(f"database:    {settings.db_url}")
    console.print(f"MLflow UI:   mlflow ui --backend-store-uri {settings.mlflow_tracking_uri}")
    if serve:
        _serve(engine, as_of, port)


def _generate(settings: Any, customers: int, months: int, seed: int) -> Any:
    from arrisk.ledger.frames import write_dir
    from arrisk.ledger.generator import generate_book

    frames = generate_book(n_customers=customers, months=months, seed=seed)
    folder = settings.home / "demo_book"
    counts = write_dir(frames, folder)
    console.print(f"book written to {folder}: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    return frames


def _import(engine: Any, frames: Any) -> None:
    from arrisk.ledger.cli import print_import_report
    from arrisk.ledger.importer import import_frames

    print_import_report(import_frames(engine, frames, source="demo"))


def _aging(frames: Any, as_of: dt.date, base: str) -> None:
    from arrisk.ledger.aging import aging_report
    from arrisk.ledger.cli import emit_aging

    emit_aging(aging_report(frames, as_of, by="collector", base_currency=base), fmt="table")


def _train(frames: Any, settings: Any) -> None:
    from training.demo import train_demo_models

    metrics = train_demo_models(frames, tracking_uri=settings.mlflow_tracking_uri)
    for name, values in metrics.items():
        shown = ", ".join(f"{k} {v:.3f}" for k, v in values.items() if isinstance(v, float))
        console.print(f"{name}: {shown}")


def _score(engine: Any, as_of: dt.date) -> None:
    from serving.worklist.refresh import refresh_worklist

    summary = refresh_worklist(engine, as_of, models=None)
    console.print(
        f"worklist run {summary.run_id}: {summary.n_customers:,} customers, "
        f"{summary.n_invoices:,} open invoices in {summary.seconds:.1f} s "
        f"({summary.rows_per_second:,.0f} rows/s); tiers {summary.tiers}"
    )
    for warning in summary.warnings:
        console.print(f"[yellow]{warning}[/]")


def _dunning(engine: Any, as_of: dt.date) -> None:
    from arrisk.collections.actor import Actor
    from arrisk.dunning.engine import run_dunning
    from arrisk.dunning.runs import dunning_summary

    result = run_dunning(engine, as_of, dry_run=True, send=False, actor=Actor("demo", "admin"))
    console.print(dunning_summary(result).to_string(index=False))


def _drift(frames: Any, settings: Any, as_of: dt.date) -> None:
    from training.monitoring.reports import drift_summary_text
    from training.monitoring.runs import run_drift

    summary = run_drift(frames, as_of=as_of, model_name="default_risk", settings=settings)
    console.print(drift_summary_text(summary))
    if summary["dataset_drift"]:
        console.print(
            "  (demo) The reference is the champion's training rows, pooled over as-of dates months "
            f"before {as_of:%Y-%m-%d}. A generated book only grows older and longer since, so features "
            "of history and tenure move by construction here. On a live book, DRIFT means: check the "
            "features listed before trusting the scores, and consider `arrisk retrain`.",
            style="dim",
            highlight=False,
        )


def _serve(engine: Any, as_of: dt.date, port: int) -> None:
    from serving.demo import prepare_demo_service

    tokens = prepare_demo_service(engine, as_of)
    console.print(Rule("serving"))
    for role, token in tokens.items():
        console.print(f"{role:15s} {token}")
    first = tokens.get("collector") or next(iter(tokens.values()))
    console.print(
        f"\ncurl -s -H 'Authorization: Bearer {first}' 'http://127.0.0.1:{port}/v1/worklist?limit=5'\n"
        f"API docs: http://127.0.0.1:{port}/docs   (Ctrl-C stops the server)"
    )
    import uvicorn

    uvicorn.run("serving.app:create_app", factory=True, host="127.0.0.1", port=port, log_level="warning")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
