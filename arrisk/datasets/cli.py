"""``arrisk datasets list`` and ``arrisk datasets import NAME [PATH]``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

console = Console()
datasets_app = typer.Typer(help="Public data sets (IBM AR, UCI, Home Credit, WWI) imported as ledgers.")


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the ``arrisk`` app."""
    app.add_typer(datasets_app, name="datasets")


@datasets_app.command("list")
def list_datasets(
    path: Path | None = typer.Option(None, "--data-dir", help="data root (default: ARRISK_DATA_DIR)"),
) -> None:
    """List the data sets this project can import and whether each is present under the data root."""
    from rich.table import Table

    from arrisk.datasets import DATASETS
    from arrisk.settings import get_settings

    root = path or get_settings().data_dir
    table = Table("name", "folder", "found", "what it is")
    for info in DATASETS.values():
        found = "yes" if (root / info.folder).is_dir() else "no"
        table.add_row(info.name, str(root / info.folder), found, info.description)
    console.print(table)


@datasets_app.command("import")
def import_dataset(
    name: str = typer.Argument(..., help="data set: ibm-ar, uci-credit, home-credit or wwi"),
    path: Path | None = typer.Argument(
        None, help="the data set's folder or the data root (default: ARRISK_DATA_DIR)"
    ),
) -> None:
    """Map a public data set onto the ledger and write it to the store (idempotent: ids are stable)."""
    import time

    from arrisk.datasets import load_dataset
    from arrisk.ledger.importer import import_frames
    from arrisk.settings import get_settings
    from arrisk.store.db import get_engine

    settings = get_settings()
    started = time.perf_counter()
    with console.status(f"reading {name}"):
        bundle = load_dataset(name, path or settings.data_dir)
    loaded = time.perf_counter() - started
    with console.status(f"importing {sum(bundle.row_counts().values()):,} rows into the store"):
        report = import_frames(get_engine(settings), bundle.frames, source=f"dataset:{name}")
    total = time.perf_counter() - started
    for table, rows in bundle.row_counts().items():
        console.print(f"{table:>14}: {rows:>9,} rows")
    console.print(
        f"dataset:{name}: {sum(bundle.row_counts().values()):,} rows "
        f"({report.inserted:,} inserted, {report.updated:,} updated) in {total:.1f} s "
        f"(read and map {loaded:.1f} s, import {report.seconds:.1f} s)"
    )
