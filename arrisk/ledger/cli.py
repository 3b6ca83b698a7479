"""Ledger commands: ``arrisk import``, ``arrisk report aging``, ``arrisk db``."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from arrisk.errors import ValidationError

console = Console(width=max(shutil.get_terminal_size((130, 24)).columns, 130))
report_app = typer.Typer(help="Reports on the ledger (aging).", no_args_is_help=True)
db_app = typer.Typer(help="The ledger store: where it is, schema migrations.", no_args_is_help=True)


def import_book(
    folder: Annotated[
        Path,
        typer.Argument(help="folder with customers, invoices, payments, allocations ... (.csv or .parquet)"),
    ],
) -> None:
    """Validate a book in the interchange format and write it to the store in one transaction."""
    from arrisk.ledger.importer import import_dir
    from arrisk.store.db import get_engine

    engine = get_engine()
    with console.status(f"importing {folder} ..."):
        report = import_dir(engine, folder)
    print_import_report(report)


def print_import_report(report) -> None:  # type: ignore[no-untyped-def]
    from rich.table import Table

    table = Table(title=f"imported {report.source} in {report.seconds:.1f} s")
    for col in ("table", "inserted", "updated", "unchanged"):
        table.add_column(col, justify="left" if col == "table" else "right")
    for name, c in report.counts.items():
        table.add_row(name, f"{c['inserted']:,}", f"{c['updated']:,}", f"{c['unchanged']:,}")
    console.print(table)
    if report.not_imported:
        console.print(
            f"not imported: {', '.join(report.not_imported)} (the store records its own dunning runs, "
            "payment plans and credit decisions; features and training read these files from a folder)"
        )


def aging(
    as_of: Annotated[str, typer.Option("--as-of", help="date YYYY-MM-DD (default: today)")] = "",
    by: Annotated[str, typer.Option(help="customer | collector | currency")] = "customer",
    fmt: Annotated[str, typer.Option("--format", help="table | csv | json")] = "table",
    buckets: Annotated[str, typer.Option(help="bucket upper bounds in days past due")] = "30,60,90",
    top: Annotated[int, typer.Option(help="rows shown in table format (largest totals first; 0 = all)")] = 20,
) -> None:
    """Aging buckets in base and invoice currency, share over 90 days, DSO (countback) and CEI."""
    from arrisk.ledger.aging import AgingConfig, aging_report
    from arrisk.ledger.load import load_frames
    from arrisk.settings import get_settings
    from arrisk.store.db import get_engine

    day = parse_date(as_of) if as_of else dt.date.today()
    try:
        config = AgingConfig(bounds=tuple(int(b) for b in buckets.split(",")))
    except ValueError as err:
        raise ValidationError(f"--buckets {buckets!r}: {err}") from None
    frames = load_frames(get_engine())
    report = aging_report(frames, day, by=by, base_currency=get_settings().base_currency, config=config)
    emit_aging(report, fmt=fmt, top=top)


def emit_aging(report, *, fmt: str, top: int = 20) -> None:  # type: ignore[no-untyped-def]
    if fmt == "csv":
        typer.echo(report.table.to_csv(index=False), nl=False)
    elif fmt == "json":
        typer.echo(report.table.to_json(orient="records", indent=2))
    elif fmt == "table":
        console.print(aging_table(report, top=top))
        console.print(currency_table(report))
    else:
        raise ValidationError(f"--format must be table, csv or json, got {fmt!r}")


def aging_table(report, *, top: int):  # type: ignore[no-untyped-def]
    from rich.table import Table

    frame = report.table
    body = frame[frame[report.by] != "TOTAL"].sort_values("total", ascending=False)
    if top:
        body = body.head(top)
    rows = [*body.itertuples(index=False), *frame[frame[report.by] == "TOTAL"].itertuples(index=False)]
    table = Table(title=f"Aging as of {report.as_of.date()} by {report.by} ({report.base_currency})")
    for col in frame.columns:
        table.add_column(str(col), justify="left" if col == report.by else "right")
    for row in rows:
        table.add_row(*[_cell(v) for v in row])
    return table


def currency_table(report):  # type: ignore[no-untyped-def]
    from rich.table import Table

    table = Table(title="Open amounts in invoice currency")
    for col in report.by_currency.columns:
        table.add_column(str(col), justify="left" if col == "currency" else "right")
    for row in report.by_currency.itertuples(index=False):
        table.add_row(*[_cell(v) for v in row])
    return table


def _cell(value: object) -> str:
    if isinstance(value, float):
        return (
            "" if value != value else (f"{value:.1%}" if abs(value) < 1 and value != 0 else f"{value:,.0f}")
        )
    return str(value)


def parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"date {text!r} is not YYYY-MM-DD") from None


def db_info() -> None:
    """Where the store lives and whether its schema is current."""
    from arrisk.settings import get_settings
    from arrisk.store.db import get_engine, schema_is_current, table_names

    settings = get_settings()
    engine = get_engine(settings)
    console.print(f"database: {engine.url.render_as_string(hide_password=True)}")
    console.print(f"schema current: {schema_is_current(engine)}; tables: {len(table_names(engine))}")


def db_upgrade() -> None:
    """Apply every pending schema migration (Alembic)."""
    from arrisk.store.db import get_engine

    get_engine()
    console.print("schema is at the newest revision")


def register(app: typer.Typer) -> None:
    app.command("import")(import_book)
    report_app.command("aging")(aging)
    app.add_typer(report_app, name="report")
    db_app.command("info")(db_info)
    db_app.command("upgrade")(db_upgrade)
    app.add_typer(db_app, name="db")
