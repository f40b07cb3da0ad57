"""schemas/plan.schema.json describes what `crmconf plan --format json` prints.

Real plans are validated against it; so is a plan carrying fields a later version
might add (consumers ignore unknown fields), and broken plans are refused so the
schema is known to say something.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import Result

from crmconf.kinds import ALL_KINDS
from crmconf.planning.document import FORMAT_VERSION
from tests.conftest import ROOT, SEED

WriteConfig = Callable[..., Path]
Cli = Callable[..., Result]

PLAN_SCHEMA = ROOT / "schemas" / "plan.schema.json"

MIGRATIONS = """\
crmconf: 1
industries: [Bygg]
status_types: [Aktiv, Ej bearbetad]
removed:
  industries:
    - {name: Data/IT, move_customers_to: Bygg}
    - {name: Turism, move_customers_to: Bygg}
categories: [{name: Partner, show_on: both}]
sales:
  rejection_reasons: [Pris]
  stages:
    - {title: Steg 4 Uppföljningssamtal, probability: 100, status: open_won}
    - {title: Steg 1 Telefonsamtal, probability: 15, status: open}
    - {title: Steg 2 Första besök, probability: 35, status: open}
    - {title: Steg 3 Andra besök, probability: 50, status: open}
"""


def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(PLAN_SCHEMA.read_text(encoding="utf-8"))
    return schema


def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(_schema())


def _plan_json(cli: Cli, path: Path, url: str, *arguments: str) -> dict[str, Any]:
    result = cli("plan", path, "--target", url, "--format", "json", *arguments)
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def _assert_valid(document: dict[str, Any]) -> None:
    errors = [error.message for error in _validator().iter_errors(document)]
    assert errors == []


def test_schema_is_a_2020_12_schema_stating_the_compatibility_rule() -> None:
    schema = _schema()

    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["format_version"]["const"] == FORMAT_VERSION
    assert "only add fields" in schema["description"]
    assert "ignore fields they do not know" in schema["description"]
    kinds = schema["$defs"]["change"]["properties"]["kind"]["examples"]
    assert kinds == [kind.name for kind in ALL_KINDS]


def test_demo_plans_are_valid(cli: Cli, demo_url: str) -> None:
    document = _plan_json(cli, SEED, demo_url)
    assert {change["action"] for change in document["changes"]} == {"create", "update", "delete"}
    _assert_valid(document)

    cli("apply", SEED, "--target", demo_url, "--yes")
    _assert_valid(_plan_json(cli, SEED, demo_url))


def test_a_seed_plan_on_an_empty_sandbox_is_valid(cli: Cli, sandbox_url: str) -> None:
    # An empty sandbox has no users, so no groups with members.
    everything_but_groups = "customer_info,categories,industries,status_types,sales,features"
    document = _plan_json(cli, SEED, sandbox_url, "--only", everything_but_groups)

    assert document["summary"]["create"] > 20  # the two switches exist, set off: updates
    _assert_valid(document)


def test_plans_with_migrations_moves_and_manual_fields_are_valid(
    cli: Cli, write_config: WriteConfig, demo_url: str, tmp_path: Path
) -> None:
    path = write_config(MIGRATIONS)
    saved = tmp_path / "plan.json"

    document = _plan_json(cli, path, demo_url, "--allow-mass-change", "-o", saved)

    migrations = [change["migration"] for change in document["changes"] if "migration" in change]
    assert migrations == [{"move_to": "Bygg"}, {"move_to": "Bygg"}]
    assert any("position" in change["changed"] for change in document["changes"])
    _assert_valid(document)
    _assert_valid(json.loads(saved.read_text(encoding="utf-8")))


def test_a_cleared_migration_is_valid(cli: Cli, write_config: WriteConfig, demo_url: str) -> None:
    document = _plan_json(cli, write_config(MIGRATIONS), demo_url, "--allow-mass-change")
    change = next(c for c in document["changes"] if c.get("migration"))
    change["migration"] = {"clear": True}

    _assert_valid(document)


def test_fields_a_later_version_adds_are_allowed_everywhere(cli: Cli, demo_url: str) -> None:
    document = _plan_json(cli, SEED, demo_url)
    document["target"] = "sqlite:///x.db"
    document["summary"]["manual"] = 0
    for change in document["changes"]:
        change["address"] = f"{change['kind']}[{change['key']!r}]"
        for side in ("before", "after"):
            if change[side] is not None:
                change[side]["colour"] = "blue"
        if "usage" in change:
            change["usage"]["projects"] = 2

    _assert_valid(document)


def _broken(document: dict[str, Any], break_it: Callable[[dict[str, Any]], None]) -> Any:
    copied = copy.deepcopy(document)
    break_it(copied)
    return copied


@pytest.mark.parametrize(
    ("label", "break_it"),
    [
        ("no format_version", lambda d: d.pop("format_version")),
        ("format_version 2", lambda d: d.update(format_version=2)),
        ("unknown action", lambda d: d["changes"][0].update(action="replace")),
        ("change without kind", lambda d: d["changes"][0].pop("kind")),
        ("create with a before", lambda d: d["changes"][1].update(before={"name": "x"})),
        ("update changing nothing", lambda d: d["changes"][0].update(changed=[])),
        ("negative usage", lambda d: d["changes"][0]["usage"].update(customers=-1)),
        ("item without name", lambda d: d["changes"][0]["after"].pop("name")),
        (
            "migration both ways",
            lambda d: d["changes"][-1].update(migration={"move_to": "a", "clear": True}),
        ),
        ("summary without delete", lambda d: d["summary"].pop("delete")),
        ("warning not text", lambda d: d["warnings"].append(3)),
    ],
)
def test_broken_plans_are_refused(
    cli: Cli, demo_url: str, label: str, break_it: Callable[[dict[str, Any]], None]
) -> None:
    document = _plan_json(cli, SEED, demo_url)
    assert document["changes"][0]["action"] == "update"
    assert document["changes"][1]["action"] == "create"

    assert list(_validator().iter_errors(_broken(document, break_it))), label


def test_the_plan_schema_file_is_generated_and_current() -> None:
    from crmconf.planning.document_schema import plan_schema_text

    assert PLAN_SCHEMA.read_text(encoding="utf-8") == plan_schema_text(), (
        "schemas/plan.schema.json is out of date: run `make schema` and commit it"
    )
