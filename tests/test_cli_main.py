"""The ``arrisk`` entry point as a user runs it (a fresh process): a usage mistake or a bad file gives
one clear message and exit status 2, never a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from arrisk.errors import ValidationError
from models.credit_limit import load_policy


def _arrisk(*args: str, home: Path, **env_vars: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from arrisk.cli import main; sys.argv = ['arrisk', *sys.argv[1:]]; main()"
    env = {**os.environ, "ARRISK_HOME": str(home), **env_vars}
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["score"], "Missing option '--as-of'"),
        (["no-such-command"], "No such command 'no-such-command'"),
        (["features", "build", "--as-of", "2025-13-45"], "--as-of '2025-13-45': not a date"),
    ],
)
def test_a_usage_mistake_is_one_message_and_status_2(tmp_path: Path, args: list[str], message: str) -> None:
    done = _arrisk(*args, home=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert message in output and "Traceback" not in output


def test_a_training_config_that_is_not_yaml_is_named(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("target: [unclosed\n")
    done = _arrisk("train", "--config", str(config), home=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 2 and "Traceback" not in output
    # the console wraps long lines wherever it likes: compare without white space
    assert f"{config}:notvalidYAML" in "".join(output.split())


def test_a_credit_limit_policy_that_is_not_yaml_is_a_validation_error(tmp_path: Path) -> None:
    policy = tmp_path / "limits.yaml"
    policy.write_text("bands: {unclosed\n")
    with pytest.raises(ValidationError, match=rf"credit-limit policy {policy}: "):
        load_policy(policy)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends: nothing listens there


@pytest.mark.parametrize(
    "command", [["report", "aging", "--as-of", "2025-01-01"], ["serve", "--port", "8799"]]
)
@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "postgresql://ar:s3cret@127.0.0.1:{port}/ledger",
            "the store at postgresql://ar:***@127.0.0.1:{port}/",
        ),
        ("not a url", "ARRISK_DATABASE_URL is not a database URL"),
    ],
)
def test_a_store_that_cannot_be_reached_is_one_message_without_the_password(
    tmp_path: Path, command: list[str], url: str, message: str
) -> None:
    port = str(_closed_port())
    done = _arrisk(*command, home=tmp_path, ARRISK_DATABASE_URL=url.format(port=port))
    output = "".join((done.stdout + done.stderr).split())
    assert done.returncode == 2 and "Traceback" not in output and "s3cret" not in output
    assert "".join(message.format(port=port).split()) in output
