"""The one command line, ``arrisk``. Each domain registers its own commands; imports stay light."""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console

from arrisk.errors import ArriskError

app = typer.Typer(
    name="arrisk",
    help="AR delinquency and risk: ledger, features, models, worklists, dunning, cash application.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console(stderr=True)

# Each module has register(app) adding its commands; heavy imports happen inside the commands.
COMMAND_MODULES = [
    "arrisk.ledger.cli",
    "arrisk.ledger.generator.cli",
    "arrisk.datasets.cli",
    "features.cli",
    "training.cli",
    "serving.cli",
    "arrisk.dunning.cli",
    "arrisk.cashapp.cli",
    "training.monitoring.cli",
    "arrisk.demo",
]

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def main() -> None:
    """Entry point: domain errors print one clear line and exit 2, never a traceback."""
    try:
        app(standalone_mode=False)
    except ArriskError as err:
        console.print(f"[bold red]error:[/] {err}")
        sys.exit(2)
    except (typer.Exit, SystemExit) as ext:
        code = getattr(ext, "exit_code", None)
        sys.exit(code if code is not None else getattr(ext, "code", 0))
    except typer.Abort:
        console.print("aborted")
        sys.exit(1)
    except Exception as err:  # usage errors: click's, or those of the copy of click inside typer
        show, code = getattr(err, "show", None), getattr(err, "exit_code", None)
        if callable(show) and isinstance(code, int):
            show()
            sys.exit(code)
        problem = _database_problem(err)
        if problem is None:
            raise
        console.print(f"[bold red]error:[/] {problem}")
        sys.exit(2)


def _database_problem(err: Exception) -> str | None:
    """A store that cannot be reached or a database URL that cannot be read, in one line (the
    password never shown); None for any other error."""
    from sqlalchemy import exc

    if isinstance(err, exc.ArgumentError) and "URL" in str(err):
        return f"ARRISK_DATABASE_URL is not a database URL ({err})"
    if isinstance(err, exc.OperationalError):
        from arrisk.settings import get_settings

        url = get_settings().database_url
        where = "the store"
        if url:
            from sqlalchemy.engine import make_url

            where = f"the store at {make_url(url).render_as_string(hide_password=True)}"
        first = str(err.orig if err.orig is not None else err).splitlines()[0]
        return f"{where}: {first} (check ARRISK_DATABASE_URL and that the database is running)"
    return None


if __name__ == "__main__":
    main()
