"""Feature commands: ``arrisk features build`` (as-of snapshots to Parquet) and ``arrisk features list``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from arrisk.errors import ValidationError

console = Console()
features_app = typer.Typer(
    help="As-of feature snapshots: build them, list the catalogue.", no_args_is_help=True
)


def _parse_dates(values: list[str]):  # type: ignore[no-untyped-def]
    import pandas as pd

    out = []
    for value in values:
        try:
            out.append(pd.Timestamp(value).normalize())
        except ValueError:
            raise ValidationError(f"--as-of {value!r}: not a date (expected YYYY-MM-DD)") from None
    return out


def _load(source: Path | None, from_db: bool):  # type: ignore[no-untyped-def]
    if source is not None and from_db:
        raise ValidationError("--source and --from-db: give one ledger source, not both")
    if source is not None:
        from arrisk.ledger.frames import read_dir
        from features.source import BOOK_COLUMNS

        if not source.is_dir():
            raise ValidationError(f"--source {source}: not a folder")
        return read_dir(source, BOOK_COLUMNS)
    from arrisk.ledger.load import load_frames
    from arrisk.store.db import get_engine

    return load_frames(get_engine())


@features_app.command("build")
def build(
    as_of: Annotated[list[str], typer.Option("--as-of", help="as-of date YYYY-MM-DD; repeat for several")],
    source: Annotated[
        Path | None, typer.Option("--source", help="folder in the interchange format (default: the store)")
    ] = None,
    from_db: Annotated[
        bool, typer.Option("--from-db", help="read the ledger from the store (the default)")
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="output folder (default: <ARRISK_HOME>/features/<version>)")
    ] = None,
    dask_scheduler: Annotated[
        str | None, typer.Option("--dask-scheduler", help="Dask scheduler address to scale out on")
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", help="features YAML (default: packaged)")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="processes on this machine (default: one per core for a large book, from 4 cores)",
        ),
    ] = None,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="a Parquet book's engine: sql (DuckDB, every core) or pandas (the same features in pandas)",
        ),
    ] = "sql",
) -> None:
    """Build customer and open-invoice feature snapshots as of each date and write them to Parquet."""
    from rich.progress import Progress

    from arrisk.settings import get_settings
    from features.config import load_config
    from features.pipeline import build_snapshot, build_snapshot_from_parquet, check_engine, write_snapshot

    check_engine(engine)
    dates = _parse_dates(as_of)
    cfg = load_config(config)
    address = dask_scheduler or get_settings().dask_scheduler
    # a Parquet book on one machine is read per date straight from its files (DuckDB)
    lean = address is None and source is not None and (source / "invoices.parquet").exists()
    frames = None
    if not lean:
        with console.status("reading the ledger ..."):
            frames = _load(source, from_db)
    client = _client(address) if address else None
    with Progress(console=console) as progress:
        task = progress.add_task("building snapshots", total=len(dates))
        for day in dates:
            if client is not None:
                from features.dask_backend import build_snapshot_dask

                snapshot = build_snapshot_dask(frames, day, client=client, config=cfg)  # type: ignore[arg-type]
            elif lean:
                snapshot = build_snapshot_from_parquet(
                    source,  # type: ignore[arg-type]
                    day,
                    config=cfg,
                    workers=workers,
                    engine=engine,
                )
            else:
                snapshot = build_snapshot(frames, day, config=cfg, workers=workers)  # type: ignore[arg-type]
            paths = write_snapshot(snapshot, out)
            progress.console.print(
                f"{day:%Y-%m-%d}: {len(snapshot.customers):,} customers, "
                f"{len(snapshot.invoices):,} open invoices -> {paths['customers'].parent} "
                f"(version {snapshot.version})"
            )
            progress.advance(task)
    if client is not None:
        client.close()


def _client(address: str):  # type: ignore[no-untyped-def]
    from arrisk.errors import UnavailableError

    try:
        from distributed import Client

        return Client(address, timeout="10s")
    except (OSError, TimeoutError) as err:
        raise UnavailableError(f"Dask scheduler {address}: cannot connect ({err})") from None


@features_app.command("list")
def list_features(
    config: Annotated[Path | None, typer.Option("--config", help="features YAML (default: packaged)")] = None,
) -> None:
    """Print every feature with its one-line definition and the feature-set version."""
    from rich.table import Table

    from features.catalogue import INVOICE_OWN, customer_catalogue
    from features.config import load_config
    from features.pipeline import feature_version

    cfg = load_config(config)
    table = Table(title=f"features (version {feature_version(cfg)})")
    for col in ("level", "feature", "definition"):
        table.add_column(col)
    for name, text in customer_catalogue(cfg).items():
        table.add_row("customer", name, text)
    for name, text in INVOICE_OWN.items():
        table.add_row("invoice", name, text)
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``arrisk features ...`` to the app."""
    app.add_typer(features_app, name="features")
