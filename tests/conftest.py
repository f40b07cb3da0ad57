"""Shared fixtures: real sandboxes (SQLite and PostgreSQL), real YAML files, the CLI.

Every test using `sandbox_url` (or `demo_url`, `demo_target`) runs once per backend:
`[sqlite]` in a temporary folder, `[postgresql]` in a fresh database of its own (see
tests/postgres.py for where the server comes from). A test that needs SQLite itself —
reads the file with the sqlite3 module, its bytes or permissions — is marked
`@pytest.mark.sqlite_only(reason=...)` and runs on SQLite alone.
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from crmconf.cli import main
from crmconf.targets.sandbox.admin import init_sandbox
from crmconf.targets.sandbox.target import SandboxTarget
from tests import postgres

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "examples" / "seed.yaml"

# A plan against the demo sandbox that renames nothing but moves a group and a stage.
MOVES = """\
crmconf: 1
groups:
  - name: Försäljning
    type: sales
    description: Säljare
    members: [anna@example.com]
    children:
      - {name: Administration, type: standard, members: [lisa@example.com]}
sales:
  stages:
    - {title: Steg 4 Uppföljningssamtal, probability: 100, status: open_won}
    - {title: Steg 1 Telefonsamtal, probability: 15, status: open}
    - {title: Steg 2 Första besök, probability: 35, status: open}
    - {title: Steg 3 Andra besök, probability: 50, status: open}
"""


BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(autouse=True)
def _no_remembered_verdicts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test validates in full, subprocesses too; tests/test_validate_cache.py
    turns the verdict cache on where it is the subject."""
    monkeypatch.setenv("CRMCONF_NO_CACHE", "1")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "sqlite_only(reason): needs SQLite itself (the file, the sqlite3 module); "
        "runs on SQLite alone",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("sqlite_only")
    if marker is not None and not marker.kwargs.get("reason"):
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: sqlite_only needs a reason=")
    metafunc.parametrize("backend", ["sqlite"] if marker else BACKENDS, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The database the sandbox of this test runs on: "sqlite" or "postgresql"."""
    if hasattr(request, "param"):
        return str(request.param)
    if request.node.get_closest_marker("sqlite_only") is None:
        pytest.fail(
            f"{request.node.nodeid} asks for a sandbox only at run time, so it cannot run on "
            "every backend: take the fixture as an argument, or mark the test sqlite_only",
            pytrace=False,
        )
    return "sqlite"


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[postgres.Databases]:
    """The PostgreSQL server of this session (skips, or in CI fails, when there is none)."""
    with ExitStack() as stack:
        databases = postgres.Databases(postgres.find_server(stack))
        stack.callback(databases.close)
        yield databases


@pytest.fixture
def postgres_url(postgres_databases: postgres.Databases) -> Iterator[str]:
    """A fresh, empty PostgreSQL database of its own for one test, dropped afterwards."""
    with postgres_databases.fresh() as url:
        yield url


@pytest.fixture(scope="session")
def _empty_sqlite_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite sandbox made once: each test's is a copy (as `sandbox init` makes)."""
    path = tmp_path_factory.mktemp("template") / "empty.db"
    init_sandbox(f"sqlite:///{path}")
    return path


@pytest.fixture
def sandbox_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """An empty sandbox CRM, as `crmconf sandbox init` leaves it: a SQLite file in a
    temporary folder, or a fresh PostgreSQL database."""
    if backend == "postgresql":
        url = str(request.getfixturevalue("postgres_url"))
        request.getfixturevalue("postgres_databases").empty_copy(url)
        return url
    path = tmp_path / "crm.db"
    shutil.copyfile(request.getfixturevalue("_empty_sqlite_sandbox"), path)
    path.chmod(0o600)
    return f"sqlite:///{path}"


@pytest.fixture
def no_sandbox_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """Where a sandbox could be, but none is yet (for `sandbox init` itself)."""
    if backend == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'crm.db'}"


@pytest.fixture
def demo_url(sandbox_url: str, backend: str, request: pytest.FixtureRequest) -> str:
    """A sandbox filled with the demo company."""
    if backend == "postgresql":  # a copy of one loaded per session: the same, but faster
        request.getfixturevalue("postgres_databases").demo_copy(sandbox_url)
        return sandbox_url
    init_sandbox(sandbox_url, demo=True)
    return sandbox_url


@pytest.fixture
def demo_target(demo_url: str) -> Iterator[SandboxTarget]:
    target = SandboxTarget.open(demo_url)
    yield target
    target.close()


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """Write a YAML configuration (dedented) and return its path."""

    def write(text: str, name: str = "config.yaml") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture
def cli() -> Callable[..., Result]:
    """Run the crmconf command in-process, as a user would type it."""

    def run(*arguments: str, input: str | None = None) -> Result:
        return CliRunner().invoke(main, [str(a) for a in arguments], input=input)

    return run
