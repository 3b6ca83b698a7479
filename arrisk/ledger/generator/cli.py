"""``arrisk generate``: write a synthetic AR book in the interchange format."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from arrisk.errors import ValidationError


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the ``arrisk`` app."""
    app.command("generate")(generate)


def generate(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the tables into (created if missing).")],
    customers: Annotated[int, typer.Option("--customers", help="Number of customers.")] = 1000,
    months: Annotated[int, typer.Option("--months", help="Length of the book in months.")] = 12,
    seed: Annotated[
        int, typer.Option("--seed", help="Random seed; the same seed writes identical files.")
    ] = 0,
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
    start: Annotated[str, typer.Option("--start", help="First day of the book, YYYY-MM-DD.")] = "2025-01-01",
    base_currency: Annotated[
        str, typer.Option("--base-currency", help="Currency the FX rates convert to.")
    ] = "EUR",
    invoice_rate: Annotated[
        float,
        typer.Option(
            "--invoice-rate",
            help="Scale every customer's invoices per month (1 = default volumes; 5 gives about "
            "10 open invoices per customer).",
        ),
    ] = 1.0,
) -> None:
    """Generate a synthetic B2B accounts-receivable book in the interchange format.

    Customers pay promptly, slowly, seasonally, ever later, dispute often or default (the behaviour is
    not written). Same seed, same files. Large books stream to disk 100k customers at a time.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from arrisk.ledger.generator import write_book
    from arrisk.ledger.generator.book import check_request

    try:
        first_day = dt.date.fromisoformat(start)
    except ValueError as err:
        raise ValidationError(f"--start {start!r} is not a date (expected YYYY-MM-DD)") from err
    base_currency = base_currency.upper()
    check_request(
        n_customers=customers,
        months=months,
        start=first_day,
        fmt=fmt,
        base_currency=base_currency,
        invoice_rate=invoice_rate,
    )
    console = Console(stderr=True)
    columns = (TextColumn("generating"), BarColumn(), MofNCompleteColumn(), TextColumn("customers"))
    with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("generate", total=customers)
        counts = write_book(
            out,
            n_customers=customers,
            months=months,
            seed=seed,
            start=first_day,
            base_currency=base_currency,
            fmt=fmt,
            invoice_rate=invoice_rate,
            on_chunk=lambda done: progress.advance(task, done),
        )
    table = Table("table", "rows", title=f"written to {out}")
    for name, rows in counts.items():
        table.add_row(name, f"{rows:,}")
    Console().print(table)
