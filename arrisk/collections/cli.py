"""``arrisk collections ...``: record promises, disputes, plans, activities and write-offs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

import typer

from arrisk.dunning.cli import DateOpt, RoleOpt, UserOpt, _actor, _engine

collections_app = typer.Typer(
    help="Collector records: promises, disputes, plans, activities, write-offs.", no_args_is_help=True
)
OptDate = Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="date, YYYY-MM-DD")]
Invoices = Annotated[list[str] | None, typer.Option("--invoice", help="invoice id (repeat for several)")]


def _day(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value else None


@collections_app.command("promise")
def promise_cmd(
    customer_id: str,
    amount: Decimal,
    promised_date: DateOpt,
    invoice: Invoices = None,
    created_at: OptDate = None,
    user: UserOpt = "",
    role: RoleOpt = "collector",
) -> None:
    """Record a promise to pay (for listed invoices, or all the customer's open ones)."""
    from arrisk.collections.promises import record_promise
    from arrisk.collections.schemas import PromiseIn

    out = record_promise(
        _engine(),
        customer_id,
        PromiseIn(
            amount=amount,
            promised_date=promised_date.date(),
            invoice_ids=invoice or [],
            created_at=_day(created_at),
        ),
        actor=_actor(user, role),
    )
    typer.echo(out.model_dump_json())


@collections_app.command("promise-state")
def promise_state_cmd(as_of: DateOpt) -> None:
    """Each customer's promises by state as of a date, and whether one broke recently."""
    from arrisk.collections.promises import customer_promise_state

    typer.echo(customer_promise_state(_engine(), as_of.date()).to_string(index=False))


@collections_app.command("dispute")
def dispute_cmd(
    customer_id: str,
    reason: str,
    invoice: Invoices = None,
    amount: Decimal | None = None,
    owner: str | None = None,
    deadline: OptDate = None,
    opened_at: OptDate = None,
    user: UserOpt = "",
    role: RoleOpt = "collector",
) -> None:
    """Open a dispute on one or more invoices; it holds dunning for those invoices only."""
    from arrisk.collections.disputes import open_dispute
    from arrisk.collections.schemas import DisputeIn

    rows = open_dispute(
        _engine(),
        customer_id,
        DisputeIn(
            invoice_ids=invoice or [],
            reason=reason,
            amount=amount,
            owner=owner,
            deadline=_day(deadline),
            opened_at=_day(opened_at),
        ),
        actor=_actor(user, role),
    )
    for row in rows:
        typer.echo(row.model_dump_json())


@collections_app.command("resolve-dispute")
def resolve_cmd(
    dispute_id: str,
    outcome: str,
    credit_amount: Decimal | None = None,
    resolved_at: OptDate = None,
    user: UserOpt = "",
    role: RoleOpt = "collector",
) -> None:
    """Resolve a dispute: credit_note (optionally booking --credit-amount), rejected or withdrawn."""
    from arrisk.collections.disputes import resolve_dispute
    from arrisk.collections.schemas import DisputeOutcome, DisputeResolution

    res = DisputeResolution(
        outcome=DisputeOutcome(outcome), credit_amount=credit_amount, resolved_at=_day(resolved_at)
    )
    typer.echo(resolve_dispute(_engine(), dispute_id, res, actor=_actor(user, role)).model_dump_json())


@collections_app.command("plan")
def plan_cmd(
    customer_id: str,
    invoice: Invoices = None,
    installment: Annotated[list[str] | None, typer.Option(help="DATE:AMOUNT (repeat)")] = None,
    created_at: OptDate = None,
    user: UserOpt = "",
    role: RoleOpt = "collector",
) -> None:
    """Agree a payment plan: --invoice I1 --installment 2025-03-01:500 --installment 2025-04-01:500."""
    from arrisk.collections.plans import create_payment_plan
    from arrisk.collections.schemas import InstallmentIn, PaymentPlanIn

    items = [
        InstallmentIn(due_date=dt.date.fromisoformat(s.split(":")[0]), amount=Decimal(s.split(":")[1]))
        for s in installment or []
    ]
    plan = PaymentPlanIn(invoice_ids=invoice or [], installments=items, created_at=_day(created_at))
    typer.echo(create_payment_plan(_engine(), customer_id, plan, actor=_actor(user, role)).model_dump_json())


@collections_app.command("activity")
def activity_cmd(
    customer_id: str,
    kind: str,
    outcome: str | None = None,
    note: str | None = None,
    follow_up: OptDate = None,
    user: UserOpt = "",
    role: RoleOpt = "collector",
) -> None:
    """Log a call, email, letter or note with its outcome and next follow-up date."""
    from arrisk.collections.activities import log_activity
    from arrisk.collections.schemas import ActivityIn, ActivityKind

    act = ActivityIn(kind=ActivityKind(kind), outcome=outcome, note=note, next_follow_up=_day(follow_up))
    typer.echo(log_activity(_engine(), customer_id, act, actor=_actor(user, role)).model_dump_json())


@collections_app.command("write-off")
def write_off_cmd(
    invoice_id: str, amount: Decimal, date: OptDate = None, user: UserOpt = "", role: RoleOpt = "collector"
) -> None:
    """Request a write-off; a second person (admin or credit analyst) must approve it."""
    from arrisk.collections.schemas import WriteOffIn
    from arrisk.collections.writeoffs import request_write_off

    req = WriteOffIn(invoice_id=invoice_id, amount=amount, date=_day(date))
    typer.echo(request_write_off(_engine(), req, actor=_actor(user, role)).model_dump_json())


@collections_app.command("approve-write-off")
def approve_cmd(
    write_off_id: str, reject: bool = False, user: UserOpt = "", role: RoleOpt = "credit_analyst"
) -> None:
    """Approve (or --reject) a requested write-off; the requester cannot decide their own."""
    from arrisk.collections.writeoffs import approve_write_off, reject_write_off

    decide = reject_write_off if reject else approve_write_off
    typer.echo(decide(_engine(), write_off_id, actor=_actor(user, role)).model_dump_json())


def register(app: typer.Typer) -> None:
    app.add_typer(collections_app, name="collections")
