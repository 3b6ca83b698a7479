"""``arrisk serve``, ``arrisk score`` and ``arrisk users``: the risk service from the command line."""

from __future__ import annotations

import datetime as dt

import typer


def _score(
    as_of: str = typer.Option(
        ..., "--as-of", help="score the book as known at the end of this day (YYYY-MM-DD)"
    ),
    keep_runs: int = typer.Option(2, help="runs whose rows are kept (older runs keep their summary only)"),
) -> None:
    """Refresh the worklist: score every customer and open invoice, with reasons, in one transaction."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from arrisk.errors import ValidationError
    from arrisk.store.db import get_engine
    from serving.model_store import ModelStore
    from serving.settings import get_serving_settings
    from serving.worklist.refresh import refresh_worklist

    try:
        day = dt.date.fromisoformat(as_of)
    except ValueError as err:
        raise ValidationError(f"--as-of {as_of!r} is not a date YYYY-MM-DD") from err
    settings = get_serving_settings()
    engine = get_engine(settings)
    store = ModelStore(registry_uri=settings.registry_uri, cache_dir=settings.models_cache_dir)
    console = Console()
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
    ) as bar:
        task = bar.add_task("loading models", total=None)
        store.load_all()
        bar.update(task, description="loading the ledger")
        steps = {
            "load": "building features",
            "features": "scoring",
            "score": "ranking",
            "rank": "explaining",
            "explain": "writing the snapshot",
        }
        summary = refresh_worklist(
            engine,
            day,
            models=store,
            keep_runs=keep_runs,
            progress=lambda s: bar.update(task, description=steps.get(s, s)),
        )
    for name, slot in store.slots.items():
        if slot.source != "registry":
            console.print(f"[yellow]model {name}: {slot.source} ({slot.error})[/]")
    for warning in summary.warnings:
        console.print(f"[yellow]{warning}[/]")
    console.print(
        f"worklist run {summary.run_id} as of {summary.as_of}: {summary.n_customers:,} customers with "
        f"open items, {summary.n_invoices:,} open invoices in {summary.seconds:.1f} s "
        f"({summary.rows_per_second:,.0f} rows/s); "
        f"tiers {summary.tiers}; stages {summary.stages}"
    )


def _serve(
    host: str = typer.Option("127.0.0.1", help="interface to listen on"),
    port: int = typer.Option(8000, help="TCP port"),
    workers: int = typer.Option(1, help="uvicorn worker processes"),
) -> None:
    """Serve the risk API (OpenAPI at /docs) with uvicorn."""
    import uvicorn

    from arrisk.store.db import get_engine

    # the store is reached (and migrated) here first: a store that cannot be reached is one clear
    # message from the command line, not a traceback in the server's start-up log
    get_engine().dispose()
    uvicorn.run(
        "serving.app:create_app", factory=True, host=host, port=port, workers=workers, log_level="info"
    )


def _create_user(
    name: str = typer.Option(..., help="the person or system the token is for"),
    role: str = typer.Option(..., help="collector | credit_analyst | data_scientist | admin"),
    collector_id: str | None = typer.Option(None, "--collector-id", help="the portfolio a collector works"),
) -> None:
    """Create a user and print its API token once (only a hash is stored)."""
    from arrisk.store.db import get_engine
    from serving.auth import create_user

    user_id, token = create_user(get_engine(), name=name, role=role, collector_id=collector_id)
    typer.echo(f"user {user_id} ({role}) created; its token, shown only now:")
    typer.echo(token)


def _list_users() -> None:
    """List users (never their tokens)."""
    from arrisk.store.db import get_engine
    from serving.auth import list_users

    for user in list_users(get_engine()):
        typer.echo(
            f"{user['user_id']}\t{user['role']}\t{user['collector_id'] or '-'}\t"
            f"{'active' if user['active'] else 'inactive'}\t{user['name']}"
        )


def register(app: typer.Typer) -> None:
    """Add ``serve``, ``score`` and the ``users`` group to the ``arrisk`` app."""
    app.command("score")(_score)
    app.command("serve")(_serve)
    users = typer.Typer(help="Users of the risk API and their tokens.", no_args_is_help=True)
    users.command("create")(_create_user)
    users.command("list")(_list_users)
    app.add_typer(users, name="users")
