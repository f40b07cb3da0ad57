"""Shared fixtures: real SQLite sandboxes in temporary folders, real YAML files, the CLI."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from crmconf.cli import main
from crmconf.targets.sandbox.admin import init_sandbox
from crmconf.targets.sandbox.target import SandboxTarget

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "examples" / "seed.yaml"


@pytest.fixture
def sandbox_url(tmp_path: Path) -> str:
    """An empty sandbox CRM (created on first use) in a temporary folder."""
    return f"sqlite:///{tmp_path / 'crm.db'}"


@pytest.fixture
def demo_url(sandbox_url: str) -> str:
    """A sandbox filled with the demo company."""
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
