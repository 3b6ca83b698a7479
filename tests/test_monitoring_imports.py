"""Evidently is loaded on the monitoring code path only: never by the CLI or the service at start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return set(out.stdout.split())


@pytest.mark.parametrize(
    "statement",
    [
        "import arrisk.cli",
        "import serving",
        "import serving.app",
        "import training.monitoring.cli, training.monitoring.reports, training.monitoring.check",
        "import training.monitoring.performance, training.monitoring.runs",
    ],
)
def test_import_does_not_load_evidently(statement: str) -> None:
    modules = _loaded_after(statement)
    assert not {m for m in modules if m == "evidently" or m.startswith("evidently.")}


def test_the_drift_report_does_load_it() -> None:
    # guards the test above against a probe that can never see evidently
    modules = _loaded_after(
        "import numpy as np, pandas as pd\n"
        "from training.monitoring.drift import compute_drift\n"
        "f = pd.DataFrame({'x': np.arange(200.0)})\n"
        "compute_drift(f, f, features=['x'])"
    )
    assert "evidently" in modules
