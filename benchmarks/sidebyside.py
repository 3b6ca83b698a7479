"""Helpers for benchmarks that run one measurement per child process on this checkout and, with
``--code DIR``, on another one (a ``git worktree`` of an older commit), alternating between them."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path


def run_child(script: str, code: Path, args: list[str]) -> dict:
    """``script --child --code CODE ARGS`` in a fresh process (cwd: that checkout); its last JSON line."""
    cmd = [sys.executable, script, "--child", "--code", str(code), *args]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=code)
    if done.returncode != 0:
        raise SystemExit(f"{Path(script).name} run on {code} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def commit(code: Path) -> str | None:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=code)
    return done.stdout.strip() or None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--runs``, ``--code`` (the other checkout) and the children's hidden ``--child``."""
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--code", type=Path, help="another checkout to run side by side with this one")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)


def trees(root: Path, other: Path | None) -> dict[str, Path]:
    """The checkouts to measure: this one, and the other one where ``--code`` names it."""
    return {"this": root, **({"other": other.resolve()} if other else {})}
