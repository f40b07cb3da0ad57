"""--only and --exclude select single items, not only whole kinds (KIND:PATTERN)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

import crmconf
from crmconf.errors import ConfigError
from crmconf.kinds import GROUPS, INDUSTRIES
from tests.conftest import SEED

Cli = Callable[..., Result]
WriteConfig = Callable[..., Path]


def _names(url: str, kind: object) -> list[str]:
    with crmconf.open_target(url) as target:
        return sorted(item.name for item in target.read([kind]).of(kind))  # type: ignore[list-item]


def test_a_pattern_plans_and_applies_only_the_items_it_matches(
    cli: Cli, demo_url: str, write_config: WriteConfig
) -> None:
    config = write_config("crmconf: 1\nindustries: [Bygg, Byggnad, Handel]\n")

    planned = cli("plan", config, "--target", demo_url, "--only", "industries:BYGG*")
    applied = cli("apply", config, "--target", demo_url, "--only", "industries:bygg*", "--yes")

    assert planned.exit_code == 0, planned.output
    assert '+ "Byggnad"' in planned.stdout
    assert "Handel" not in planned.stdout.split("Left out")[0]
    assert 'industries: "Data/IT", "Handel", "Turism"' in planned.stdout  # left out, listed
    assert applied.exit_code == 0, applied.output
    # Data/IT and Turism are not in the configuration, but were not selected: still there.
    assert _names(demo_url, INDUSTRIES) == ["Bygg", "Byggnad", "Data/IT", "Turism"]


def test_exclude_leaves_matching_items_alone(
    cli: Cli, demo_url: str, write_config: WriteConfig
) -> None:
    config = write_config("crmconf: 1\nindustries: [Bygg, {name: IT, renamed_from: [Data/IT]}]\n")

    result = cli(
        "plan", config, "--target", demo_url, "--exclude", "industries:turism", "--format", "json"
    )

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [(c["action"], c["key"]) for c in document["changes"]] == [("update", "IT")]
    assert document["left_out"] == {"industries": ["Turism"]}


def test_a_subtree_of_groups_is_selected_by_its_path(
    demo_url: str, write_config: WriteConfig
) -> None:
    config = crmconf.load(SEED)
    with crmconf.open_target(demo_url) as target:
        plan = crmconf.plan(config, target, only=["groups:försäljning/**"])
        crmconf.apply(plan, target)
        left_out = dict(plan.left_out)

    assert {change.name for change in plan.changes} == {"Försäljning", "Försäljning Stockholm"}
    assert left_out == {"groups": ("Administration",)}
    assert _names(demo_url, GROUPS) == ["Administration", "Försäljning", "Försäljning Stockholm"]


def test_a_pattern_matching_nothing_is_an_error_not_an_empty_plan(cli: Cli, demo_url: str) -> None:
    result = cli("plan", SEED, "--target", demo_url, "--only", "industries:Byg,sales.stages")

    assert result.exit_code == 1
    assert "--only industries:Byg: the pattern matches none of the industries" in result.stderr
    unknown = cli("plan", SEED, "--target", demo_url, "--exclude", "industry:Bygg")
    assert unknown.exit_code == 1
    assert "did you mean 'industries'?" in unknown.stderr


def test_a_selected_item_naming_a_left_out_one_the_target_lacks_is_refused(
    demo_url: str, write_config: WriteConfig
) -> None:
    config = crmconf.load(
        write_config(
            "crmconf: 1\ngroups:\n  - name: Ny\n    type: sales\n"
            "    children: [{name: Ny underavdelning, type: sales}]\n"
        )
    )
    with crmconf.open_target(demo_url) as target:
        with pytest.raises(ConfigError, match="'Ny', which --only/--exclude leaves out"):
            crmconf.plan(config, target, only=["groups:*/ny underavdelning"])
        both = crmconf.plan(config, target, only=["groups:ny/**"])
    assert [change.name for change in both.changes] == ["Ny", "Ny underavdelning"]


def test_a_kind_whose_order_matters_is_selected_whole(cli: Cli, demo_url: str) -> None:
    result = cli("plan", SEED, "--target", demo_url, "--only", "sales.stages:Steg 1*")

    assert result.exit_code == 1
    assert "sales.stages keep their items in an order" in result.stderr
    assert "select the whole kind: --only sales.stages" in result.stderr


def test_a_saved_plan_keeps_its_selection(cli: Cli, demo_url: str, tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    planned = cli("plan", SEED, "--target", demo_url, "--only", "industries:*IT*", "-o", out)
    assert planned.exit_code == 0, planned.output

    applied = cli("apply", out, "--yes")

    assert applied.exit_code == 0, applied.output
    assert "Applied. 0 to add, 1 to change, 0 to delete." in applied.stdout
    assert _names(demo_url, INDUSTRIES) == ["Bygg", "IT och telekom", "Turism"]
