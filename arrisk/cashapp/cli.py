"""``arrisk cashapp``: import bank statements, match them statelessly, work the exceptions queue."""

from __future__ import annotations

from pathlib import Path

import typer

cashapp = typer.Typer(
    help="Cash application: bank statements matched to open invoices.", no_args_is_help=True
)

POLICY_HELP = "cash-application policy YAML (default: the packaged arrisk/cashapp/cashapp_policy.yaml)"


@cashapp.command("apply")
def apply_cmd(
    statement_file: Path = typer.Argument(
        ..., help="CAMT.053, BAI2, MT940 or CSV statement (detected from content)"
    ),
    actor: str = typer.Option("cli", help="who is importing (audit log)"),
    policy: Path | None = typer.Option(None, help=POLICY_HELP),
) -> None:
    """Import a statement into the ledger in one transaction: payments, automatic allocations, exceptions."""
    from rich.console import Console

    from arrisk.cashapp.policy import load_policy
    from arrisk.cashapp.service import import_statement
    from arrisk.errors import ValidationError
    from arrisk.store.db import get_engine

    if not statement_file.exists():
        raise ValidationError(f"{statement_file}: file not found")
    console = Console()
    with console.status(f"matching {statement_file.name}"):
        result = import_statement(
            get_engine(),
            statement_file.read_bytes(),
            str(statement_file),
            actor=actor,
            policy=load_policy(policy),
        )
    console.print(
        f"{statement_file.name} ({result.format}): {result.credits} incoming lines, "
        f"{result.already_imported} already imported; auto {result.auto}, suggested {result.suggested}, "
        f"unapplied {result.unapplied}; {result.allocations} allocations, {result.exceptions} exceptions"
    )


@cashapp.command("match")
def match_cmd(
    open_invoices: Path = typer.Option(
        ..., "--open-invoices", help="invoices table (CSV/Parquet), optional open_amount"
    ),
    statement: Path = typer.Option(..., "--statement", help="statement file in any supported format"),
    out: Path = typer.Option(..., "--out", help="CSV of proposed allocations"),
    customers: Path | None = typer.Option(None, "--customers", help="customers table (payer names)"),
    policy: Path | None = typer.Option(None, help=POLICY_HELP),
    fx_rates: Path | None = typer.Option(
        None,
        "--fx-rates",
        help="fx_rates table (currency, rate_date, rate_to_base per unit, base currency = 1); without it "
        "a line is only matched to invoices in its own currency",
    ),
) -> None:
    """Match a statement against open invoices without a database; writes one row per proposed allocation.

    With --fx-rates a line may settle invoices in another currency: it is converted at the rate in
    force on its booking date and may differ by the policy's fx_pct; the allocation amount is then in
    the invoice's currency."""
    from rich.console import Console

    from arrisk.cashapp.stateless import match_files

    console = Console()
    with console.status(f"matching {statement.name}"):
        counts = match_files(
            open_invoices=open_invoices,
            statement=statement,
            out=out,
            customers=customers,
            policy_path=policy,
            fx_rates=fx_rates,
        )
    console.print(", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + f" -> {out}")


@cashapp.command("exceptions")
def exceptions_cmd(
    status: str = typer.Option("open", help="open | resolved | all"),
    limit: int = typer.Option(50, help="at most this many rows"),
) -> None:
    """List the exceptions queue: payments not applied automatically, with their best suggestion."""
    from rich.console import Console
    from rich.table import Table

    from arrisk.cashapp.service import list_exceptions
    from arrisk.store.db import get_engine

    page = list_exceptions(get_engine(), status=status, limit=limit)
    table = Table(title=f"cash-application exceptions ({page['total']} {status})")
    for col in ("id", "kind", "date", "amount", "payer", "reference", "best suggestion"):
        table.add_column(col)
    for item in page["items"]:
        best = item["suggestions"][0] if item["suggestions"] else None
        hint = (
            (", ".join(a["invoice_id"] for a in best["allocations"]) + f" ({best['confidence']})")
            if best
            else "-"
        )
        table.add_row(
            str(item["exception_id"]),
            item["kind"],
            item["payment_date"],
            f"{item['amount']} {item['currency']}",
            item["payer_name"] or "",
            (item["reference"] or "")[:40],
            hint,
        )
    Console().print(table)


@cashapp.command("reverse")
def reverse_cmd(
    allocation_id: str = typer.Argument(..., help="id of an automatic allocation"),
    actor: str = typer.Option("cli", help="who reverses it (audit log)"),
) -> None:
    """Reverse an automatic allocation; its payment goes back to the exceptions queue."""
    from rich.console import Console

    from arrisk.cashapp.service import reverse_allocation
    from arrisk.store.db import get_engine

    out = reverse_allocation(get_engine(), allocation_id, actor=actor)
    Console().print(
        f"reversed {allocation_id} on {out['reversed_at']}; exception {out['exception_id']} opened"
    )


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the ``arrisk`` app."""
    app.add_typer(cashapp, name="cashapp")
