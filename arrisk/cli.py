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
        raise


if __name__ == "__main__":
    main()
