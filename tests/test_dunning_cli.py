"""The ``arrisk dunning`` and ``arrisk collections`` commands against a store in a temp home."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from arrisk.dunning.cli import register
from arrisk.errors import ValidationError
from arrisk.settings import Settings
from arrisk.store.db import get_engine
from tests.test_dunning_book import add_customer, add_invoice

D = dt.date


@pytest.fixture
def cli(settings: Settings) -> tuple[CliRunner, typer.Typer]:
    engine = get_engine(settings)
    add_customer(engine, "C1")
    add_customer(engine, "C2", language="de")
    add_invoice(engine, "I1", "C1", issue=D(2025, 1, 1), due=D(2025, 1, 31), amount="500")
    add_invoice(engine, "I2", "C2", issue=D(2025, 1, 1), due=D(2025, 1, 31), amount="700")
    engine.dispose()
    app = typer.Typer()
    register(app)
    return CliRunner(), app


def test_dry_run_prints_a_summary_per_level_and_explain_shows_reasons(cli) -> None:  # type: ignore[no-untyped-def]
    runner, app = cli
    out = runner.invoke(
        app,
        [
            "collections",
            "dispute",
            "C2",
            "price",
            "--invoice",
            "I2",
            "--opened-at",
            "2025-02-01",
            "--user",
            "ann",
        ],
    )
    assert out.exit_code == 0, out.output
    out = runner.invoke(app, ["dunning", "run", "--as-of", "2025-02-10", "--dry-run", "--user", "ann"])
    assert out.exit_code == 0, out.output
    assert "contacts per level" in out.output and "contact=1" in out.output and "disputed=1" in out.output
    out = runner.invoke(app, ["dunning", "explain", "C2"])
    assert out.exit_code == 0 and "disputed" in out.output and "I2" in out.output


def test_statement_and_policy_check_commands(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    runner, app = cli
    target = tmp_path / "c1.csv"
    out = runner.invoke(
        app, ["dunning", "statement", "C1", "--as-of", "2025-02-10", "--out", str(target), "--format", "csv"]
    )
    assert out.exit_code == 0, out.output
    assert "I1" in target.read_text()
    assert "ok: 2 policies" in runner.invoke(app, ["dunning", "check-policies"]).output
    (tmp_path / "bad.yaml").write_text("name: x\nversion: 1\nlevels: []\n")
    out = runner.invoke(app, ["dunning", "check-policies", "--folder", str(tmp_path)])
    assert isinstance(out.exception, ValidationError) and "levels" in str(out.exception)


def test_write_off_request_then_approval_by_someone_else(cli) -> None:  # type: ignore[no-untyped-def]
    runner, app = cli
    out = runner.invoke(app, ["collections", "write-off", "I1", "100", "--user", "ann"])
    assert out.exit_code == 0, out.output
    write_off_id = out.output.split('"write_off_id":"')[1].split('"')[0]
    out = runner.invoke(app, ["collections", "approve-write-off", write_off_id, "--user", "bob"])
    assert out.exit_code == 0 and '"status":"approved"' in out.output
