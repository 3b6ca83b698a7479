"""``arrisk monitor drift|performance|check`` and ``arrisk retrain``. Heavy imports stay inside commands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console

console = Console()
monitor_app = typer.Typer(
    help="Model monitoring: feature drift, realised performance, threshold check.", no_args_is_help=True
)

POLICY_HELP = "monitoring policy YAML (default policies/monitoring.yaml)"


@contextmanager
def _step(text: str) -> Iterator[None]:
    """A spinner with elapsed time while one long step runs."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        progress.add_task(text, total=None)
        yield


def _store():  # type: ignore[no-untyped-def]
    from arrisk.settings import get_settings
    from arrisk.store.db import get_engine

    settings = get_settings()
    return settings, get_engine(settings)


@monitor_app.command("drift")
def drift_command(
    model: str = typer.Option("default_risk", "--model", help="registered model whose champion is checked"),
    as_of: datetime | None = typer.Option(
        None, "--as-of", formats=["%Y-%m-%d"], help="scoring date (default: the store's latest event date)"
    ),
    policy_path: Path | None = typer.Option(None, "--policy", help=POLICY_HELP),
    no_mlflow: bool = typer.Option(False, "--no-mlflow", help="do not log a monitoring run to MLflow"),
    no_report: bool = typer.Option(False, "--no-report", help="PSI only: skip the Evidently HTML report"),
) -> None:
    """Compare the current feature snapshot with the champion's training features (PSI + Evidently)."""
    from arrisk.ledger.load import load_frames
    from features.labels import latest_event_date
    from training.monitoring import runs
    from training.monitoring.policy import load_policy
    from training.monitoring.reports import drift_summary_text

    policy = load_policy(policy_path)
    settings, engine = _store()
    with _step("loading the ledger"):
        frames = load_frames(engine)
    day = as_of.date() if as_of else latest_event_date(frames).date()
    with _step(f"drift of {model} as of {day}: snapshot, PSI, Evidently report"):
        summary = runs.run_drift(
            frames,
            as_of=day,
            model_name=model,
            settings=settings,
            policy=policy.drift,
            engine=engine,
            log_to_mlflow=not no_mlflow,
            with_evidently=not no_report,
        )
    console.print(drift_summary_text(summary))
    console.print(f"report: {summary.get('report_html', '(none)')}")


@monitor_app.command("performance")
def performance_command(
    model: str | None = typer.Option(None, "--model", help="only this registered model (default: all)"),
    data_end: datetime | None = typer.Option(
        None,
        "--data-end",
        formats=["%Y-%m-%d"],
        help="judge outcomes with data up to this day (default: latest)",
    ),
    policy_path: Path | None = typer.Option(None, "--policy", help=POLICY_HELP),
) -> None:
    """Realised ROC-AUC, calibration and capture rate of the scores served each month, per version."""
    from arrisk.ledger.load import load_frames
    from training.monitoring.performance import compute_performance, performance_text
    from training.monitoring.policy import load_policy

    policy = load_policy(policy_path)
    _settings, engine = _store()
    with _step("matching served scores with matured outcomes"):
        series = compute_performance(
            engine, load_frames(engine), model=model, policy=policy.performance, data_end=data_end
        )
    if not series:
        console.print("no served scores recorded yet (the batch scoring refresh records them)")
        return
    console.print(performance_text(series), highlight=False)


@monitor_app.command("check")
def check_command(
    model: list[str] | None = typer.Option(None, "--model", help="models to check (default: the policy's)"),
    policy_path: Path | None = typer.Option(None, "--policy", help=POLICY_HELP),
) -> None:
    """Exit 1 and say why when the latest drift or performance crosses a threshold; 0 and 'all clear'."""
    from training.monitoring.check import run_check
    from training.monitoring.policy import load_policy

    policy = load_policy(policy_path)
    settings, engine = _store()
    report = run_check(settings, policy=policy, engine=engine, models=model or None)
    console.print(report.text())
    if not report.ok:
        raise typer.Exit(1)


def retrain_command(
    config: list[Path] | None = typer.Option(
        None, "--config", help="experiment YAML(s) (default: experiments/)"
    ),
    source: Path | None = typer.Option(None, "--source", help="interchange folder instead of the store"),
    generated: bool = typer.Option(False, "--generated", help="train on each config's generated book"),
    promote: bool = typer.Option(True, "--promote/--no-promote", help="run the promotion gate afterwards"),
) -> None:
    """Train challengers with the experiment configs, then run the promotion gate for each."""
    from training.monitoring.retrain import default_configs, retrain

    paths = config or default_configs()
    for outcome in retrain(paths, source=source, generated=generated, promote_after=promote, progress=_step):
        console.print(outcome.text())


def register(app: typer.Typer) -> None:
    """Add ``monitor`` (drift, performance, check) and ``retrain`` to the ``arrisk`` app."""
    app.add_typer(monitor_app, name="monitor")
    app.command("retrain")(retrain_command)
