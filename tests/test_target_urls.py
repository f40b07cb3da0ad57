"""Target URLs in messages: never with their password, malformed or not; a path gets a hint."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from crmconf.errors import TargetError
from crmconf.targets.state_backend import StateBackend
from crmconf.targets.urls import printable_url
from tests.conftest import SEED

SECRET = "S3cr3t"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"postgresql:/crm:{SECRET}@h/crm", "postgresql:/crm:***@h/crm"),
        (f"postgresql://u:{SECRET}@h:abc/crm", "postgresql://u:***@h:abc/crm"),
        (f"postgresql://u:{SECRET}@x@h/crm", "postgresql://u:***@h/crm"),
        (f"postgresql://u:{SECRET}/x@h/crm", "postgresql://u:***@h/crm"),
        (f"u:{SECRET}@h/crm", "u:***@h/crm"),
        (
            f"postgresql://h/crm?sslmode=require&password={SECRET}",
            "postgresql://h/crm?sslmode=require&password=***",
        ),
        ("postgresql://u@h/crm", "postgresql://u@h/crm"),
        ("sqlite:///.crmconf/sandbox.db", "sqlite:///.crmconf/sandbox.db"),
    ],
)
def test_a_printable_url_holds_no_password(url: str, shown: str) -> None:
    assert printable_url(url) == shown


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql:/crm:{SECRET}@h/crm",  # one slash: SQLAlchemy cannot parse it
        f"postgresql://u:{SECRET}@h:abc/crm",  # a port that is not a number
        f"postgresql+nodriver://u:{SECRET}@h/crm",
        f"mysql://u:{SECRET}@h/crm",
        f"{SECRET}@h:1",
    ],
)
def test_no_target_error_shows_the_password(url: str, tmp_path: Path) -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "crmconf", "plan", str(SEED), "--target", url],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert finished.returncode == 1, finished.stderr
    assert "Traceback" not in finished.stderr, finished.stderr
    assert finished.stderr.startswith("error: "), finished.stderr
    assert SECRET not in finished.stdout + finished.stderr


def test_a_state_backend_url_with_a_bad_port_is_a_clear_error() -> None:
    with pytest.raises(TargetError, match="is not a database URL") as refused:
        StateBackend.open(f"postgresql://u:{SECRET}@h:abc/crm")
    assert SECRET not in str(refused.value)


def test_a_path_given_as_target_suggests_a_sqlite_url(tmp_path: Path) -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "crmconf", "plan", str(SEED), "--target", ".crmconf/sandbox.db"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert finished.returncode == 1
    assert "write sqlite:///.crmconf/sandbox.db" in finished.stderr, finished.stderr
    assert not (tmp_path / ".crmconf").exists()


@pytest.mark.parametrize(
    "url",
    ["sqlite://", "sqlite:///", "sqlite:///:memory:", "sqlite:///crm.db?mode=memory&uri=true"],
)
def test_a_sqlite_url_naming_no_file_is_refused_not_a_sandbox_that_vanishes(
    tmp_path: Path, url: str
) -> None:
    # `sandbox init` said "Sandbox ready" for an in-memory database gone with the process
    # (or left a temporary file and an empty one behind for a URI), and every later
    # command said "no sandbox …; create one with 'crmconf sandbox init'".
    for command in (["sandbox", "init", "--demo"], ["plan", str(SEED)]):
        finished = subprocess.run(
            [sys.executable, "-m", "crmconf", *command, "--target", url],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
        assert finished.returncode == 1, finished.stdout + finished.stderr
        assert "a sandbox is a file: write sqlite:///PATH" in finished.stderr, finished.stderr
        assert "Warning" not in finished.stderr and "Traceback" not in finished.stderr
    assert list(tmp_path.iterdir()) == []
