"""What a plan looks like to a person (Terraform-style text) and to a program (JSON)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.conftest import MOVES, SEED

WriteConfig = Callable[..., Path]
Cli = Callable[..., Result]


def _plan(cli: Cli, path: Path, url: str, *arguments: str) -> Result:
    result = cli("plan", path, "--target", url, *arguments)
    assert result.exit_code == 0, result.output
    return result


def test_text_plan_marks_each_change_and_ends_with_the_summary(cli: Cli, demo_url: str) -> None:
    lines = _plan(cli, SEED, demo_url).stdout.splitlines()

    assert lines[-1] == "Plan: 9 to add, 7 to change, 3 to delete."
    marks = [line[2] for line in lines if line.startswith("  ") and line[2:4] in ("+ ", "~ ", "- ")]
    assert (marks.count("+"), marks.count("~"), marks.count("-")) == (9, 7, 3)
    assert '  ~ "Data/IT" → "IT och telekom" (renamed in place)' in lines
    assert '  - "Turism"' in lines
    assert '  + "Steg 5 Förlorad kund"' in lines
    assert "      probability: 50 → 65" in lines
    assert "      used by 20 customers" in lines


def test_text_plan_groups_changes_under_their_kind(cli: Cli, demo_url: str) -> None:
    lines = _plan(cli, SEED, demo_url).stdout.splitlines()

    kind_of: dict[str, str] = {}
    kind = ""
    for line in lines:
        if line and not line.startswith(" ") and line.endswith(":"):
            kind = line[:-1]
        elif line.startswith("  ") and line[2:4] in ("+ ", "~ ", "- "):
            kind_of[line[4:]] = kind
    assert kind_of['"Turism"'] == "industries"
    assert kind_of['"Steg 5 Förlorad kund"'] == "sales.stages"
    assert kind_of['"Gått till konkurrent"'] == "sales.rejection_reasons"


def test_text_plan_without_changes_says_so(cli: Cli, demo_url: str) -> None:
    cli("apply", SEED, "--target", demo_url, "--yes")

    lines = _plan(cli, SEED, demo_url).stdout.splitlines()

    assert lines == ["No changes. The target matches the configuration."]


def test_text_plan_shows_moves(cli: Cli, write_config: WriteConfig, demo_url: str) -> None:
    text = _plan(cli, write_config(MOVES), demo_url).stdout

    assert '  ~ "Administration"\n      parent: none → "Försäljning"\n' in text
    assert '  ~ "Steg 4 Uppföljningssamtal"\n      position: 4 → 1\n' in text
    assert text.endswith("Plan: 0 to add, 2 to change, 0 to delete.\n")


def test_json_plan_names_what_changed_in_moves_and_renames(
    cli: Cli, write_config: WriteConfig, demo_url: str
) -> None:
    path = write_config(MOVES + "industries: [Bygg, {name: IT, renamed_from: [Data/IT]}, Turism]\n")

    document = json.loads(_plan(cli, path, demo_url, "--format", "json").stdout)

    changed = {change["key"]: change["changed"] for change in document["changes"]}
    assert changed == {
        "Administration": ["parent"],
        "Steg 4 Uppföljningssamtal": ["position"],
        "IT": ["name"],
    }
    assert document["summary"] == {"create": 0, "update": 3, "delete": 0}


@pytest.mark.parametrize(
    ("config", "action", "key", "before", "after"),
    [
        (
            "crmconf: 1\nindustries: [Bygg, Data/IT, Turism, Handel]\n",
            "create",
            "Handel",
            None,
            {"name": "Handel"},
        ),
        (
            "crmconf: 1\nindustries: [Bygg, Data/IT]\n",
            "delete",
            "Turism",
            {"name": "Turism"},
            None,
        ),
        (
            "crmconf: 1\ncategories:\n"
            "  - {name: Partner, show_on: customer}\n  - {name: Leverantör, show_on: contact}\n",
            "update",
            "Leverantör",
            {"name": "Leverantör", "show_on": "both"},
            {"name": "Leverantör", "show_on": "contact"},
        ),
    ],
    ids=["create", "delete", "update"],
)
def test_json_change_holds_before_and_after(
    cli: Cli,
    write_config: WriteConfig,
    demo_url: str,
    config: str,
    action: str,
    key: str,
    before: dict[str, str] | None,
    after: dict[str, str] | None,
) -> None:
    document = json.loads(_plan(cli, write_config(config), demo_url, "--format", "json").stdout)

    (change,) = document["changes"]
    assert (change["action"], change["key"], change["before"], change["after"]) == (
        action,
        key,
        before,
        after,
    )
    assert document["format_version"] == 1


# Nothing in a plan reorders its text or notifies anyone

BIDI_NAME = "Bygg\u202egnidlyb"


def test_bidi_controls_from_the_crm_or_a_file_are_shown_escaped(
    cli: Cli, write_config: WriteConfig, demo_url: str
) -> None:
    """A name in the CRM (which crmconf did not write) and a group's description (free
    text) may hold U+202E: plans show it as \\u202e instead of reversing what follows."""
    from sqlalchemy import text

    from crmconf.targets.sandbox.target import SandboxTarget

    with SandboxTarget.open(demo_url) as target, target.engine.begin() as connection:
        connection.execute(
            text("UPDATE industries SET name = :name WHERE name = 'Turism'"), {"name": BIDI_NAME}
        )
    path = write_config(
        "crmconf: 1\nindustries: [Bygg, Data/IT]\n"
        'groups:\n  - {name: Ny, type: standard, description: "a\\u2067b\\u202dc"}\n'
        "  - {name: Försäljning, type: sales, description: Säljare, members: [anna@example.com]}\n"
        "  - {name: Administration, type: standard, members: [lisa@example.com]}\n"
    )
    for output_format in ("text", "markdown"):
        shown = _plan(cli, path, demo_url, "--format", output_format).stdout
        for control in ("\u202e", "\u2067", "\u202d"):
            assert control not in shown, output_format
        assert "Bygg\\u202egnidlyb" in shown and "a\\u2067b\\u202dc" in shown, shown


def test_markdown_plans_mention_nobody(cli: Cli, write_config: WriteConfig, demo_url: str) -> None:
    path = write_config(
        "crmconf: 1\nindustries: [Bygg, Data/IT, Turism, '@everyone']\n"
        "groups:\n  - {name: '@anna', type: standard, description: 'ping @everyone and @acme/crm'}\n"
        "  - {name: Försäljning, type: sales, description: Säljare, members: [anna@example.com]}\n"
        "  - {name: Administration, type: standard, members: [lisa@example.com]}\n"
    )

    shown = _plan(cli, path, demo_url, "--format", "markdown").stdout

    assert "@" not in shown, [line for line in shown.splitlines() if "@" in line]
    assert "&#64;everyone" in shown and "&#64;anna" in shown and "&#64;acme/crm" in shown
