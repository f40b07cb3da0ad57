"""The FOUNDATION promise, end to end on a real SQLite sandbox through the CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from tests.conftest import SEED


def test_seed_plans_applies_and_replans_empty(cli: Callable[..., Result], demo_url: str) -> None:
    first = cli("plan", SEED, "--target", demo_url, "--detailed-exitcode")
    assert first.exit_code == 2, first.output
    assert "Plan: 9 to add, 7 to change, 3 to delete." in first.output
    assert '"Data/IT" → "IT och telekom" (renamed in place)' in first.output

    applied = cli("apply", SEED, "--target", demo_url, "--yes")
    assert applied.exit_code == 0, applied.output
    assert "Applied." in applied.output

    again = cli("plan", SEED, "--target", demo_url, "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes." in again.output


def test_export_then_plan_is_empty(
    cli: Callable[..., Result], demo_url: str, tmp_path: Path
) -> None:
    exported = tmp_path / "exported.yaml"
    assert cli("export", "--target", demo_url, "-o", exported).exit_code == 0
    result = cli("plan", exported, "--target", demo_url, "--detailed-exitcode")
    assert result.exit_code == 0, result.output
    assert "No changes." in result.output
