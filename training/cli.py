"""Commands: ``arrisk train``, ``arrisk evaluate``, ``arrisk models promote|show``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

models_app = typer.Typer(help="Registered models: promotion gate and what is served.", no_args_is_help=True)

SOURCE_HELP = (
    "ledger data: an interchange folder, or 'store' for the database under ARRISK_HOME; "
    "default: the generated book named in the config"
)


def _print_metrics(title: str, metrics: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in metrics.items():
        table.add_row(key, f"{value:.4f}" if isinstance(value, float) else str(value))
    Console().print(table)


def _frames_from(source: str | None, config: Any) -> Any:
    from training.runner import load_frames

    if source == "store":
        from arrisk.ledger.load import load_frames as load_store
        from arrisk.settings import get_settings
        from arrisk.store.db import get_engine

        return load_store(get_engine(get_settings()))
    return load_frames(config, Path(source) if source else None)


def _train_config(config: Path, source: str | None, tracking_uri: str | None, register: bool) -> None:
    from rich.console import Console

    from training.config import load_config
    from training.runner import run_experiment

    cfg = load_config(config)
    with Console(stderr=True).status(f"training {cfg.name} ({cfg.label.kind}) ..."):
        result = run_experiment(cfg, _frames_from(source, cfg), tracking_uri=tracking_uri, register=register)
    shown = {
        k: v
        for k, v in result.metrics.items()
        if k.startswith(("valid_", "scorecard_valid_roc", "dpd_rule_valid_roc", "backtest_"))
    }
    _print_metrics(f"{cfg.name}: run {result.run_id}, version {result.version}", shown | result.payment_date)


def _train_features(
    features: Path, label: str, time_column: str | None, name: str, tracking_uri: str | None, register: bool
) -> None:
    from rich.console import Console

    from training.features_file import read_feature_table
    from training.job import RunSpec
    from training.runner import run_table

    table = read_feature_table(features, label=label, time_column=time_column)
    with Console(stderr=True).status(f"training {name} on {features} ({len(table.frame)} rows) ..."):
        result = run_table(
            table, RunSpec(name=name, model="default_risk"), tracking_uri=tracking_uri, register=register
        )
    shown = {
        k: v
        for k, v in result.metrics.items()
        if k.startswith(("valid_", "scorecard_valid_roc", "dpd_rule_valid_roc", "backtest_"))
    }
    _print_metrics(f"{name}: run {result.run_id}, version {result.version}", shown)


def train(
    config: Annotated[Path | None, typer.Option(help="experiment YAML (experiments/*.yaml)")] = None,
    source: Annotated[str | None, typer.Option(help=SOURCE_HELP)] = None,
    features: Annotated[Path | None, typer.Option(help="bring your own: a CSV/Parquet feature table")] = None,
    label: Annotated[str | None, typer.Option(help="with --features: the 0/1 label column")] = None,
    time_column: Annotated[
        str | None, typer.Option(help="with --features: time column (out-of-time split)")
    ] = None,
    name: Annotated[
        str, typer.Option(help="with --features: experiment / registered model name")
    ] = "default_risk",
    tracking_uri: Annotated[
        str | None, typer.Option(help="MLflow tracking URI (default: under ARRISK_HOME)")
    ] = None,
    register: Annotated[bool, typer.Option(help="register the model (alias challenger)")] = True,
) -> None:
    """Train, validate out of time, compare with baselines, log to MLflow and register a model."""
    from arrisk.errors import ValidationError

    if features is not None:
        if label is None:
            raise ValidationError("--features needs --label COLUMN (the 0/1 outcome)")
        _train_features(features, label, time_column, name, tracking_uri, register)
    elif config is not None:
        _train_config(config, source, tracking_uri, register)
    else:
        raise ValidationError("arrisk train needs --config FILE or --features FILE --label COLUMN")


def evaluate(
    dataset: Annotated[str, typer.Option(help="uci-credit | ibm-ar | home-credit")],
    data_dir: Annotated[
        Path | None, typer.Option(help="data root or the data set's folder (default ARRISK_DATA_DIR)")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="result JSON (default benchmarks/results/<dataset>.json)")
    ] = None,
) -> None:
    """Load a public data set, build ledger features, train and score; writes a JSON result."""
    from rich.console import Console

    from arrisk.settings import get_settings
    from training.evaluate import run_evaluation

    folder = data_dir or get_settings().data_dir
    target = out or Path("benchmarks/results") / f"{dataset}.json"
    with Console(stderr=True).status(f"evaluating on {dataset} ..."):
        result = run_evaluation(dataset, folder)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    _print_metrics(f"{dataset} -> {target}", result["summary"])


@models_app.command("promote")
def promote_cmd(
    name: Annotated[str, typer.Argument(help="registered model: late_payment | default_risk")],
    config: Annotated[Path | None, typer.Option(help="experiment YAML whose gate to apply")] = None,
    min_improvement: Annotated[float | None, typer.Option(help="override the gate's required gain")] = None,
    tracking_uri: Annotated[str | None, typer.Option(help="MLflow tracking URI")] = None,
) -> None:
    """Make the challenger champion if it beats the champion out of time and is not worse calibrated."""
    from training.config import GateSpec, load_config
    from training.promote import promote

    gate = load_config(config).gate if config else GateSpec()
    if min_improvement is not None:
        gate = gate.model_copy(update={"min_improvement": min_improvement})
    decision = promote(name, gate=gate, uri=tracking_uri)
    verdict = "PROMOTED" if decision.promoted else "KEPT champion"
    typer.echo(
        f"{name}: {verdict} (challenger v{decision.challenger_version}, champion "
        f"v{decision.champion_version}): {decision.reason}"
    )


@models_app.command("show")
def show_cmd(
    name: Annotated[str, typer.Argument(help="registered model name")],
    alias: Annotated[str, typer.Option(help="champion | challenger")] = "champion",
    tracking_uri: Annotated[str | None, typer.Option(help="MLflow tracking URI")] = None,
) -> None:
    """Version, training date, feature-set version and key metrics of NAME@ALIAS."""
    from models.registry import load_model

    loaded = load_model(name, alias, tracking_uri_=tracking_uri)
    keys = ("valid_roc_auc", "valid_pr_auc", "valid_brier", "valid_ece")
    _print_metrics(
        f"{name}@{alias} v{loaded.version} trained {loaded.trained_at} features {loaded.feature_set_version}",
        {k: loaded.metrics[k] for k in keys if k in loaded.metrics},
    )


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the ``arrisk`` app."""
    app.command("train")(train)
    app.command("evaluate")(evaluate)
    app.add_typer(models_app, name="models")
