"""``arrisk dunning ...``: run the engine, explain decisions, statements, overrides, policy checks.

``register`` also adds ``arrisk collections ...`` (promises, disputes, plans, activities, write-offs).
"""

from __future__ import annotations

import datetime as dt
import getpass
from pathlib import Path
from typing import Annotated

import typer

DateOpt = Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="date, YYYY-MM-DD")]
UserOpt = Annotated[str, typer.Option("--user", help="who is acting (audit log)")]
RoleOpt = Annotated[str, typer.Option("--role", help="admin | credit_analyst | collector")]

dunning_app = typer.Typer(
    help="Rule-based dunning: runs, explanations, statements, overrides.", no_args_is_help=True
)


def _default_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "cli"


def _actor(user: str | None, role: str):  # type: ignore[no-untyped-def]
    from arrisk.collections.actor import Actor

    return Actor(user or _default_user(), role)


def _engine():  # type: ignore[no-untyped-def]
    from arrisk.store.db import get_engine

    return get_engine()


def _print_frame(title: str, frame) -> None:  # type: ignore[no-untyped-def]
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for col in frame.columns:
        table.add_column(str(col))
    for row in frame.itertuples(index=False):
        table.add_row(*["" if v is None else str(v) for v in row])
    Console(width=max(Console().width, 160)).print(table)


@dunning_app.command("run")
def run_cmd(
    as_of: DateOpt,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="decide and record decisions, contact nobody")
    ] = False,
    send: Annotated[
        bool, typer.Option("--send", help="deliver queued and failed messages after deciding")
    ] = False,
    user: UserOpt = "",
    role: RoleOpt = "admin",
) -> None:
    """Decide for every customer as of a date; record events and queue messages unless --dry-run."""
    from rich.console import Console

    from arrisk.dunning.engine import run_dunning
    from arrisk.dunning.runs import dunning_summary

    with Console(stderr=True).status(f"dunning run as of {as_of.date()} ..."):
        result = run_dunning(_engine(), as_of.date(), dry_run=dry_run, send=send, actor=_actor(user, role))
    _print_frame(
        f"run {result.run_id}{' (dry run)' if dry_run else ''}: contacts per level", dunning_summary(result)
    )
    typer.echo("decisions: " + ", ".join(f"{k}={v}" for k, v in sorted(result.counts.items())))
    if result.delivery:
        typer.echo("delivery: " + ", ".join(f"{k}={v}" for k, v in result.delivery.items()))


@dunning_app.command("explain")
def explain_cmd(
    customer_id: Annotated[str, typer.Argument(help="customer id")],
    run_id: Annotated[str | None, typer.Option(help="a run id; the newest run if unset")] = None,
) -> None:
    """Why each of a customer's invoices was or was not contacted in a run."""
    from arrisk.dunning.runs import explain

    out = explain(_engine(), customer_id, run_id=run_id)
    _print_frame(
        f"customer {customer_id} in run {out['run_id']} as of {out['as_of']}",
        out["decisions"][
            [
                "invoice_id",
                "days_past_due",
                "open_amount",
                "last_level",
                "level",
                "action",
                "reason",
                "fee_amount",
            ]
        ],
    )


@dunning_app.command("show")
def show_cmd(run_id: Annotated[str, typer.Argument(help="run id")]) -> None:
    """A run's header and counts per decision reason."""
    from arrisk.dunning.runs import get_run

    run = get_run(_engine(), run_id)
    typer.echo(
        f"run {run_id} as of {run['as_of']} by {run['actor']} dry_run={run['dry_run']} "
        f"policies={run['policies']}"
    )
    typer.echo(", ".join(f"{k}={v}" for k, v in sorted(run["counts"].items())))


@dunning_app.command("send")
def send_cmd() -> None:
    """Deliver every pending or failed message in the outbox (SMTP from ARRISK_SMTP_*)."""
    from arrisk.dunning.delivery import deliver_outbox

    typer.echo(", ".join(f"{k}={v}" for k, v in deliver_outbox(_engine()).items()))


@dunning_app.command("statement")
def statement_cmd(
    customer_id: Annotated[str, typer.Argument(help="customer id")],
    as_of: DateOpt,
    out: Annotated[Path, typer.Option(help="file to write")],
    fmt: Annotated[str, typer.Option("--format", help="pdf | csv")] = "pdf",
) -> None:
    """Write a customer's statement of account (open invoices as of a date) as PDF or CSV."""
    from arrisk.dunning.statement import write_statement

    typer.echo(str(write_statement(_engine(), customer_id, as_of.date(), path=out, fmt=fmt)))


@dunning_app.command("override")
def override_cmd(
    customer_id: Annotated[str, typer.Argument(help="customer id")],
    policy: Annotated[str | None, typer.Option(help="use this policy instead of the segment's")] = None,
    block_until: Annotated[
        dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="no dunning up to this date")
    ] = None,
    reason: Annotated[str | None, typer.Option(help="why (audit log)")] = None,
    user: UserOpt = "",
    role: RoleOpt = "admin",
) -> None:
    """Set a customer's override (another policy and/or a block); neither option clears it."""
    from arrisk.dunning.runs import set_override

    set_override(
        _engine(),
        customer_id,
        policy=policy,
        blocked_until=block_until.date() if block_until else None,
        reason=reason,
        actor=_actor(user, role),
    )
    typer.echo(
        f"override for {customer_id}: policy={policy} blocked_until={block_until and block_until.date()}"
    )


@dunning_app.command("check-policies")
def check_policies_cmd(
    folder: Annotated[Path | None, typer.Option(help="policy folder; policies/dunning by default")] = None,
) -> None:
    """Load and validate every policy file; exits 2 naming the bad field if any is wrong."""
    from arrisk.dunning.policy import load_policies

    policies = load_policies(folder)
    for _, p in sorted(policies.by_name.items()):
        typer.echo(f"{p.label}: segments {p.segments}, levels {[lv.level for lv in p.levels]}")
    typer.echo(f"ok: {len(policies.by_name)} policies")


def register(app: typer.Typer) -> None:
    """Add ``arrisk dunning`` and ``arrisk collections`` to the app."""
    from arrisk.collections.cli import register as register_collections

    app.add_typer(dunning_app, name="dunning")
    register_collections(app)
