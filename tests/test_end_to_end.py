"""The FOUNDATION promise, end to end on a real SQLite sandbox through the CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import Result

import crmconf
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


def test_an_export_writes_hidden_characters_as_escapes(
    cli: Callable[..., Result], demo_url: str, tmp_path: Path
) -> None:
    # Written as themselves, a bidi control reorders the line in an editor or a diff
    # ("Trojan Source") and a zero-width space is not seen at all, in a file people review.
    config = tmp_path / "hidden.yaml"
    config.write_text(
        'crmconf: 1\nindustries: [Bygg, Data/IT, Turism, "By\\u200bgg\\u2060 2"]\n'
        "groups:\n"
        "  - {name: Försäljning, type: sales, members: [anna@example.com],\n"
        '     description: "Säljare \\u202eevil\\u2066"}\n'
        "  - {name: Administration, type: standard, members: [lisa@example.com]}\n",
        encoding="utf-8",
    )
    applied = cli("apply", config, "--target", demo_url, "--yes")
    assert applied.exit_code == 0, applied.output
    exported = tmp_path / "exported.yaml"

    assert cli("export", "--target", demo_url, "-o", exported).exit_code == 0

    text = exported.read_text(encoding="utf-8")
    assert not {"\u202e", "\u2066", "\u200b", "\u2060"} & set(text), text
    assert "\\u202e" in text.lower() and "\\u200b" in text.lower()
    descriptions = {r.fields.get("description") for r in crmconf.load(exported).sections["groups"]}
    assert "Säljare \u202eevil\u2066" in descriptions
    replanned = cli("plan", exported, "--target", demo_url, "--detailed-exitcode")
    assert replanned.exit_code == 0, replanned.output
