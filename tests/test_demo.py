"""`make demo` works any number of times in a row (it once crashed on the second run)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_demo_twice_in_a_row(tmp_path: Path) -> None:
    if not (ROOT / ".venv" / "bin" / "crmconf").exists():
        pytest.fail("run through `make test`, which sets up .venv", pytrace=False)
    # The demo's sandbox goes to a folder of the test's, not to the checkout.
    environment = {**os.environ, "CRMCONF_TARGET": f"sqlite:///{tmp_path / 'sandbox.db'}"}
    runs = [
        subprocess.run(
            ["make", "--no-print-directory", "-o", ".venv/.installed", "demo"],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
        )
        for _ in range(2)
    ]

    for run in runs:
        assert run.returncode == 0, run.stdout + run.stderr
        assert "Traceback" not in run.stderr
        assert "Plan: 9 to add, 7 to change, 3 to delete." in run.stdout
        assert run.stdout.rstrip().endswith("No changes. The target matches the configuration.")
    assert [path.name for path in tmp_path.iterdir()] == ["sandbox.db"]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_fleet_demo_twice_in_a_row() -> None:
    if not (ROOT / ".venv" / "bin" / "crmconf").exists():
        pytest.fail("run through `make test`, which sets up .venv", pytrace=False)
    environment = {k: v for k, v in os.environ.items() if k != "CRMCONF_TARGET"}
    for _ in range(2):
        run = subprocess.run(
            ["make", "--no-print-directory", "-o", ".venv/.installed", "fleet-demo"],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        assert (
            "Compared with the standard (acme/base): acme-prod, acme-test, globex, hooli, stark"
            in run.stdout
        )
    page = (ROOT / "examples" / "team" / "fleet.html").read_text(encoding="utf-8")
    assert page.count('<tr data-status="changes"') == 5
