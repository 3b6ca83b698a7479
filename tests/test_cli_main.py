"""The ``arrisk`` entry point as a user runs it (a fresh process): a usage mistake or a bad file gives
one clear message and exit status 2, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from arrisk.errors import ValidationError
from models.credit_limit import load_policy


def _arrisk(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    code = "import sys; from arrisk.cli import main; sys.argv = ['arrisk', *sys.argv[1:]]; main()"
    env = {**os.environ, "ARRISK_HOME": str(home)}
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
