"""`--only KIND[,KIND]` on plan and apply: adopt one area of the CRM at a time."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from crmconf.config.selection import select_kinds, selectable_names
from crmconf.errors import ConfigError
from crmconf.kinds import ALL_KINDS
from tests.conftest import SEED

WriteConfig = Callable[..., Path]
Cli = Callable[..., Result]


def _kinds(cli: Cli, url: str, *arguments: str) -> set[str]:
    result = cli("plan", SEED, "--target", url, "--format", "json", *arguments)
    assert result.exit_code == 0, result.output
    return {change["kind"] for change in json.loads(result.stdout)["changes"]}


def test_plan_only_plans_the_kinds_named(cli: Cli, demo_url: str) -> None:
    assert _kinds(cli, demo_url, "--only", "industries") == {"industries"}
    assert _kinds(cli, demo_url, "--only", "industries, categories") == {
        "industries",
        "categories",
    }


def test_a_section_prefix_stands_for_all_its_kinds(cli: Cli, demo_url: str) -> None:
    assert _kinds(cli, demo_url, "--only", "sales") == {
        "sales.rejection_reasons",
        "sales.types",
        "sales.stages",
    }
    assert _kinds(cli, demo_url, "--only", "customer_info,features") == {
        "customer_info.show_as_tab",
        "customer_info.contact_origins",
        "customer_info.products",
        "customer_info.sources",
        "features.restore_customers",
    }


def test_every_kind_and_section_can_be_named() -> None:
    names = selectable_names()

    assert {kind.name for kind in ALL_KINDS} <= set(names)
    assert names["customer_info"] == {k.name for k in ALL_KINDS if k.section[0] == "customer_info"}
    assert select_kinds("sales.stages") == {"sales.stages"}


@pytest.mark.parametrize("command", [["plan", "--detailed-exitcode"], ["apply", "--yes"]])
def test_unknown_kinds_are_refused_with_the_valid_names(
    cli: Cli, demo_url: str, command: list[str]
) -> None:
    result = cli(*command, SEED, "--target", demo_url, "--only", "industries,sales.stage")

    assert result.exit_code == 1
    assert "error: --only: no kind is called 'sales.stage'" in result.stderr
    assert "hint: did you mean 'sales.stages'? valid: customer_info, " in result.stderr
    assert "industries, status_types, sales, sales.rejection_reasons" in result.stderr
    assert "Traceback" not in result.output


def test_only_commas_is_refused() -> None:
    with pytest.raises(ConfigError, match="--only names no kind"):
        select_kinds(" , ")


def test_apply_only_changes_only_those_kinds(cli: Cli, demo_url: str) -> None:
    applied = cli("apply", SEED, "--target", demo_url, "--only", "industries", "--yes")

    assert applied.exit_code == 0, applied.output
    assert "Applied. 0 to add, 1 to change, 1 to delete." in applied.stdout
    assert _kinds(cli, demo_url, "--only", "industries") == set()
    assert "industries" not in _kinds(cli, demo_url)
    assert "categories" in _kinds(cli, demo_url)


def test_saved_plan_made_with_only_applies_only_those_kinds(
    cli: Cli, demo_url: str, tmp_path: Path
) -> None:
    saved = tmp_path / "plan.json"
    made = cli("plan", SEED, "--target", demo_url, "--only", "sales", "-o", saved)
    assert made.exit_code == 0, made.output

    refused = cli("apply", saved, "--only", "industries", "--yes")
    applied = cli("apply", saved, "--yes")

    assert refused.exit_code == 1
    assert (
        "is a saved plan: pass --only and --exclude to 'crmconf plan', which made it"
        in refused.stderr
    )
    assert applied.exit_code == 0, applied.output
    remaining = _kinds(cli, demo_url)
    assert "industries" in remaining
    assert not remaining & {"sales.rejection_reasons", "sales.types", "sales.stages"}


def test_only_a_section_the_configuration_lacks_warns_that_nothing_is_planned(
    cli: Cli, write_config: WriteConfig, demo_url: str
) -> None:
    path = write_config("crmconf: 1\nindustries: [Bygg, Data/IT, Turism]\n")

    result = cli("plan", path, "--target", demo_url, "--only", "groups")

    assert result.exit_code == 0, result.output
    assert "warning: --only groups: the configuration has none of these sections" in result.stderr
    assert result.stdout == "No changes. The target matches the configuration.\n"
