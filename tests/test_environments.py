"""Environments (base/ + envs/NAME/ overlays) and ${NAME} variables, through real YAML files.

Each test states one rule of issue 5 (environments, variables) and fails when it breaks.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
from click.testing import Result

from crmconf.api import load
from crmconf.config.environments import overlay_json_schema
from crmconf.config.variables import substitute
from crmconf.config.yaml_source import parse
from crmconf.errors import ConfigError
from crmconf.model.configuration import Configuration
from crmconf.targets.sandbox.admin import init_sandbox
from tests.conftest import ROOT

WriteConfig = Callable[..., Path]
Cli = Callable[..., Result]

BASE = """\
crmconf: 1
categories:
  - {name: Partner, show_on: both}
  - {name: Leverantör, show_on: customer}
groups:
  - name: Försäljning
    type: sales
    members: [anna@example.com]
    children:
      - name: Försäljning Stockholm
        type: sales
        members: [erik@example.com]
        children:
          - {name: Team Söder, type: sales}
industries: [Bygg, IT och telekom, Turism]
sales:
  rejection_reasons: [Pris]
  stages:
    - {title: Steg 1 Telefonsamtal, probability: 15, status: open}
    - {title: Vunnen, probability: 100, status: closed_won}
features:
  restore_customers: false
safety: {max_deletes: 5, max_change_fraction: 0.5}
"""


@pytest.fixture
def layout(write_config: WriteConfig) -> Callable[..., Path]:
    """A layout with the base above; overlays given as {environment: text}."""

    def make(overlays: dict[str, str] | None = None, base: str = BASE) -> Path:
        root = write_config(base, "crm/base/settings.yaml").parents[1]
        for environment, text in (overlays or {}).items():
            if text:
                write_config(text, f"crm/envs/{environment}/overlay.yaml")
            else:
                (root / "envs" / environment).mkdir(parents=True, exist_ok=True)
        return root

    return make


def _names(config: Configuration, kind: str) -> list[str]:
    return [record.name for record in config.sections[kind]]


def _records(config: Configuration, kind: str) -> dict[str, dict[str, object]]:
    return {record.name: dict(record.fields) for record in config.sections[kind]}


def _problems(path: Path, **options: object) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load(path, **options)  # type: ignore[arg-type]
    return [str(problem) for problem in raised.value.problems]


# Overlays


def test_overlay_adds_items_and_changes_fields_by_identity(layout: Callable[..., Path]) -> None:
    root = layout(
        {
            "prod": """\
            crmconf: 1
            categories:
              - {name: "  PARTNER ", show_on: contact}
              - {name: VIP, show_on: customer}
            groups:
              - name: försäljning   stockholm
                members: [lisa@example.com]
            industries: [Handel]
            """
        }
    )

    prod = load(root, env="prod")
    base = load(root)

    assert _records(prod, "categories") == {
        "PARTNER": {"show_on": "contact"},
        "Leverantör": {"show_on": "customer"},
        "VIP": {"show_on": "customer"},
    }
    groups = _records(prod, "groups")
    stockholm = groups["försäljning   stockholm"]
    assert stockholm == {  # type kept from the base, members from the overlay
        "type": "sales",
        "description": "",
        "members": ["lisa@example.com"],
        "parent": "Försäljning",
    }
    assert groups["Team Söder"]["parent"] == "försäljning   stockholm"  # stays where it was
    assert _names(prod, "industries") == ["Bygg", "IT och telekom", "Turism", "Handel"]
    assert _names(base, "industries") == ["Bygg", "IT och telekom", "Turism"]
    assert prod.files == (str(root / "base/settings.yaml"), str(root / "envs/prod/overlay.yaml"))
    assert prod.digest != base.digest


def test_overlay_group_children_are_added_under_the_group_written(
    layout: Callable[..., Path],
) -> None:
    root = layout(
        {
            "prod": """\
            crmconf: 1
            groups:
              - name: Team Söder
                children:
                  - {name: Team Söder 2, type: standard}
            """
        }
    )

    groups = _records(load(root, env="prod"), "groups")

    assert groups["Team Söder 2"]["parent"] == "Team Söder"
    assert groups["Team Söder"]["parent"] == "Försäljning Stockholm"


def test_drop_removes_base_items_and_a_group_with_its_subgroups(
    layout: Callable[..., Path],
) -> None:
    root = layout(
        {
            "prod": """\
            crmconf: 1
            drop:
              industries: [turism]
              groups: [Försäljning Stockholm]
              sales: {stages: [vunnen]}
            """
        }
    )

    prod = load(root, env="prod")

    assert _names(prod, "industries") == ["Bygg", "IT och telekom"]
    assert _names(prod, "groups") == ["Försäljning"]
    assert _names(prod, "sales.stages") == ["Steg 1 Telefonsamtal"]


def test_dropping_and_writing_an_item_replaces_it_whole(layout: Callable[..., Path]) -> None:
    root = layout(
        {
            "prod": """\
            crmconf: 1
            drop: {groups: [Team Söder]}
            groups:
              - {name: Team Söder, type: standard}
            """
        }
    )

    groups = _records(load(root, env="prod"), "groups")

    assert groups["Team Söder"] == {
        "type": "standard",
        "description": "",
        "members": [],
        "parent": None,  # written at the top of the tree, so it moved there
    }


def test_ordered_lists_and_switches_written_in_an_overlay_replace_the_base_whole(
    layout: Callable[..., Path],
) -> None:
    root = layout(
        {
            "prod": """\
            crmconf: 1
            sales:
              stages:
                - {title: Vunnen, probability: 100, status: closed_won}
                - {title: Nytt steg, probability: 40, status: open}
            features: {restore_customers: true}
            safety: {max_deletes: 1}
            """
        }
    )

    prod = load(root, env="prod")

    assert _names(prod, "sales.stages") == ["Vunnen", "Nytt steg"]
    assert _records(prod, "features.restore_customers") == {"restore_customers": {"enabled": True}}
    assert _names(prod, "sales.rejection_reasons") == ["Pris"]  # the rest of sales: kept
    assert (prod.limits.max_deletes, prod.limits.max_change_fraction) == (1, 0.5)


def test_an_empty_environment_is_the_base(layout: Callable[..., Path]) -> None:
    root = layout({"test": ""})

    assert load(root, env="test").sections == load(root).sections


def test_errors_point_at_the_file_that_wrote_the_value(layout: Callable[..., Path]) -> None:
    root = layout(
        {
            "prod": """\
            crmconf: 1
            categories:
              - name: Partner
                show_on: everywhere
            groups:
              - {name: Ny grupp, members: [x@example.com]}
            """
        },
        base=BASE.replace("[anna@example.com]", "[anna@example.com, 12.5]"),
    )

    problems = _problems(root, env="prod")

    overlay, base = root / "envs/prod/overlay.yaml", root / "base/settings.yaml"
    assert any(problem.startswith(f"{overlay}:4:14: categories[0].show_on") for problem in problems)
    assert any(problem.startswith(f"{base}:8:33: groups[0].members[1]") for problem in problems)
    missing = next(problem for problem in problems if "'type' is missing" in problem)
    assert missing.startswith(f"{overlay}:6:5: ")
    assert "the overlay adds it and it must be complete" in missing


def test_drop_of_an_item_the_base_lacks_is_an_error(layout: Callable[..., Path]) -> None:
    root = layout({"prod": "crmconf: 1\ndrop:\n  industries: [Byg]\n  sale: {stages: [x]}\n"})

    problems = _problems(root, env="prod")

    overlay = root / "envs/prod/overlay.yaml"
    assert problems[0].startswith(f"{overlay}:4:3: unknown section 'sale' in drop")
    root = layout({"prod": "crmconf: 1\ndrop:\n  industries: [Byg]\n"})
    assert _problems(root, env="prod") == [
        f"{overlay}:3:16: drop: industry 'Byg' is not in the base industries\n"
        "  hint: drop names items the base defines; check the spelling"
    ]


def test_drop_in_the_base_is_an_error(layout: Callable[..., Path]) -> None:
    root = layout(base=BASE + "drop: {industries: [Bygg]}\n")

    (problem,) = _problems(root)

    assert problem.startswith(f"{root / 'base/settings.yaml'}:24:1: drop: belongs in an overlay")


def test_one_item_changed_in_two_overlay_files_is_an_error(
    layout: Callable[..., Path], write_config: WriteConfig
) -> None:
    root = layout({"prod": "crmconf: 1\ncategories: [{name: Partner, show_on: contact}]\n"})
    write_config("crmconf: 1\ndrop: {categories: [partner]}\n", "crm/envs/prod/second.yaml")

    (problem,) = _problems(root, env="prod")

    assert problem.startswith(
        f"{root / 'envs/prod/second.yaml'}:2:21: category 'partner' is changed twice in this "
        f"environment; also at {root / 'envs/prod/overlay.yaml'}:2:14"
    )


def test_layout_errors_name_environments_and_stray_files(
    layout: Callable[..., Path], write_config: WriteConfig
) -> None:
    root = layout({"prod": "", "test": ""})

    assert _problems(root, env="stage") == [
        f"{root}:1:1: no environment 'stage' in {root / 'envs'}\n  hint: environments: prod, test"
    ]
    write_config("crmconf: 1\n", "crm/crmconf.yaml")  # a tenants' project file may sit here
    load(root, env="prod")
    write_config("crmconf: 1\n", "crm/extra.yaml")
    assert _problems(root, env="prod")[0].startswith(f"{root / 'extra.yaml'}:1:1: not read")
    assert _problems(root.parent / "nothing", env="prod")[0].startswith(
        f"{root.parent / 'nothing'}:1:1: environment 'prod' asked for, but"
    )


# Variables


def test_a_plain_value_that_is_one_variable_is_read_by_yaml_rules(
    write_config: WriteConfig,
) -> None:
    path = write_config(
        """\
        crmconf: 1
        industries:
          - ${INDUSTRY}
          - Steg ${N} och $${literal}
          - "${QUOTED}"
        sales:
          stages:
            - title: Steg 1
              probability: ${P}
              status: ${STATUS:-open}
        features:
          restore_customers: ${FLAG}
        """
    )
    variables = {"INDUSTRY": "Bygg", "N": "3", "QUOTED": "017", "P": "15", "FLAG": "true"}

    config = load(path, variables=variables)

    assert _names(config, "industries") == ["Bygg", "Steg 3 och ${literal}", "017"]
    assert _records(config, "sales.stages")["Steg 1"]["probability"] == 15
    assert _records(config, "sales.stages")["Steg 1"]["status"] == "open"
    assert _records(config, "features.restore_customers") == {
        "restore_customers": {"enabled": True}
    }


def test_a_default_applies_when_the_variable_is_unset_or_empty(write_config: WriteConfig) -> None:
    path = write_config("crmconf: 1\nindustries: [x]\nstatus_types:\n  - ${S:-Aktiv}\n")

    assert _names(load(path, variables={}), "status_types") == ["Aktiv"]
    assert _names(load(path, variables={"S": ""}), "status_types") == ["Aktiv"]
    assert _names(load(path, variables={"S": "Vilande"}), "status_types") == ["Vilande"]


def test_variable_errors_name_the_place_and_the_variable(write_config: WriteConfig) -> None:
    path = write_config(
        """\
        crmconf: 1
        industries:
          - ${UNSET}
          - ${1BAD}
          - ${OPEN
        ${KEY}: x
        sales:
          stages:
            - title: Steg 1
              probability: ${P}
              status: open
        """
    )

    problems = _problems(path, variables={"P": "fifteen"})

    assert problems[0] == (
        f"{path}:3:5: variable UNSET is not set\n"
        "  hint: set UNSET in the environment or the --vars file, or give a default: "
        "${UNSET:-value}"
    )
    assert problems[1].startswith(f"{path}:4:5: malformed variable reference '${{1BAD}}'")
    assert problems[2].startswith(f"{path}:5:5: malformed variable reference '${{OPEN'")
    assert problems[3].startswith(
        f"{path}:6:1: variables are substituted in values only, not in the key '${{KEY}}'"
    )
    assert len(problems) == 4  # substitution stops before validation
    assert _problems(path.with_name("p.yaml"), variables={}) != []  # missing file: an error


def test_a_variable_inside_brackets_gets_a_hint_instead_of_a_bare_syntax_error(
    write_config: WriteConfig,
) -> None:
    path = write_config("crmconf: 1\nindustries: [Bygg, ${EXTRA}]\n")

    (problem,) = _problems(path, variables={"EXTRA": "Handel"})

    assert problem.startswith(f"{path}:2:21: YAML syntax error")
    assert "quote the variable there" in problem


def test_a_variable_typed_as_a_number_where_a_name_is_expected_gets_a_quoting_hint(
    write_config: WriteConfig,
) -> None:
    path = write_config("crmconf: 1\nindustries:\n  - ${YEAR}\n")

    (problem,) = _problems(path, variables={"YEAR": "2024"})

    assert problem.startswith(f"{path}:3:5: industries[0]: expected a name (text)")
    assert 'quote it so YAML reads it as text: "${YEAR}"' in problem


def test_yaml_12_core_rules_type_a_whole_variable(write_config: WriteConfig) -> None:
    values = {
        "0x1F": 31,
        "0o17": 15,
        "-3": -3,
        "1.5e3": 1500.0,
        "~": None,
        "False": False,
        "yes": "yes",
        "017": 17,
        "1_000": "1_000",
    }
    for text, expected in values.items():
        source = parse("f.yaml", "a: ${V}\n")
        assert substitute(source, "a: ${V}\n", {"V": text}).value == {"a": expected}, text
    (infinite,) = substitute(parse("f.yaml", "- ${V}\n"), "- ${V}\n", {"V": "-.inf"}).value
    assert infinite == -math.inf


def test_files_without_variables_are_not_walked_again() -> None:
    text = (ROOT / "examples" / "seed.yaml").read_text(encoding="utf-8")
    source = parse("seed.yaml", text)

    assert substitute(source, text, {}) is source


def test_cli_vars_file_wins_over_the_environment(
    cli: Cli, write_config: WriteConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config("crmconf: 1\nindustries:\n  - ${A}\n  - ${B}\n  - Nr ${C}\n")
    values = write_config("A: Från filen\nC: 3\n", "vars.yaml")
    monkeypatch.setenv("A", "Från miljön")
    monkeypatch.setenv("B", "Bara i miljön")
    url = init_sandbox(f"sqlite:///{tmp_path / 'crm.db'}")

    result = cli("plan", path, "--vars", values, "--target", url)

    assert result.exit_code == 0, result.output
    assert '+ "Från filen"' in result.stdout
    assert '+ "Bara i miljön"' in result.stdout
    assert '+ "Nr 3"' in result.stdout
    assert "Från miljön" not in result.stdout


def test_a_bad_vars_file_is_reported_with_its_place(cli: Cli, write_config: WriteConfig) -> None:
    path = write_config("crmconf: 1\nindustries: [Bygg]\n")
    values = write_config("A: [1, 2]\n2B: x\nC:\n", "vars.yaml")
    surprising = write_config("D: yes\n", "surprising.yaml")

    result = cli("validate", path, "--vars", values)
    read_strictly = cli("validate", path, "--vars", surprising)

    assert result.exit_code == 1
    assert f"error: {values}:1:4: variable A is not a single value" in result.stderr
    assert f"error: {values}:2:1: '2B' is not a variable name" in result.stderr
    assert f"error: {values}:3:3: variable C is empty (null)" in result.stderr
    assert read_strictly.exit_code == 1
    assert f"error: {surprising}:1:4: 'yes' is read as a boolean by YAML 1.1" in (
        read_strictly.stderr
    )


# The command line


OVERLAYS = {
    "prod": """\
    crmconf: 1
    categories:
      - {name: Partner, show_on: contact}
    industries:
      - ${PROD_INDUSTRY}
    """,
    "test": """\
    crmconf: 1
    drop: {industries: [Turism, Saknas]}
    """,
}


def test_validate_checks_every_environment_and_says_which_one_fails(
    cli: Cli, layout: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    block = "  - name: Leverantör\n    show_on: ${SHOW}\n"
    root = layout(OVERLAYS, base=BASE.replace("  - {name: Leverantör, show_on: customer}\n", block))
    monkeypatch.delenv("PROD_INDUSTRY", raising=False)
    monkeypatch.delenv("SHOW", raising=False)

    result = cli("validate", root)

    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    base, prod, test = (root / "base/settings.yaml", root / "envs/prod", root / "envs/test")
    assert lines[0] == f"error: {base}:5:14: [base, prod, test] variable SHOW is not set"
    assert f"error: {prod}/overlay.yaml:5:5: [prod] variable PROD_INDUSTRY is not set" in lines
    monkeypatch.setenv("SHOW", "contact")
    lines = cli("validate", root).stderr.splitlines()
    assert lines[0] == f"error: {prod}/overlay.yaml:5:5: [prod] variable PROD_INDUSTRY is not set"
    assert lines[2].startswith(f"error: {test}/overlay.yaml:2:29: [test] drop: industry 'Saknas'")


def test_validate_reports_each_valid_environment(
    cli: Cli, layout: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = layout({**OVERLAYS, "test": ""})
    monkeypatch.setenv("PROD_INDUSTRY", "Handel")

    everything = cli("validate", root)
    one = cli("validate", root, "--env", "prod")

    assert everything.exit_code == 0, everything.output
    assert everything.stdout.splitlines() == [
        f"{root} [base]: valid (12 items in 6 managed kinds).",
        f"{root} [prod]: valid (13 items in 6 managed kinds).",
        f"{root} [test]: valid (12 items in 6 managed kinds).",
    ]
    assert one.stdout == f"{root}: valid (13 items in 6 managed kinds).\n"


def test_plan_and_apply_one_environment(
    cli: Cli, layout: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = init_sandbox(f"sqlite:///{tmp_path / 'crm.db'}")
    init_sandbox(url, demo=True)
    root = layout(
        {
            "prod": "crmconf: 1\nindustries: [Handel]\n",
            "test": "crmconf: 1\nindustries: [Test]\n",
        },
        base="crmconf: 1\nindustries:\n  - Bygg\n  - {name: IT och telekom, renamed_from: [Data/IT]}\n"
        "  - Turism\n",
    )

    unchosen = cli("plan", root, "--target", url)
    planned = cli("plan", root, "--env", "prod", "--target", url, "--detailed-exitcode")
    applied = cli("apply", root, "--env", "prod", "--target", url, "--yes")
    again = cli("plan", root, "--env", "prod", "--target", url, "--detailed-exitcode")
    other = cli("plan", root, "--env", "test", "--target", url, "--detailed-exitcode")

    assert unchosen.exit_code == 1
    assert f"error: {root}:1:1: {root} has environments (prod, test): choose one" in (
        unchosen.stderr
    )
    assert planned.exit_code == 2, planned.output
    assert '+ "Handel"' in planned.stdout and "Test" not in planned.stdout
    assert applied.exit_code == 0, applied.output
    assert again.exit_code == 0, again.output
    assert other.exit_code == 2 and '- "Handel"' in other.stdout


def test_a_saved_plan_of_an_environment_is_stale_once_its_overlay_changes(
    cli: Cli, layout: Callable[..., Path], tmp_path: Path
) -> None:
    url = init_sandbox(f"sqlite:///{tmp_path / 'crm.db'}")
    init_sandbox(url, demo=True)
    root = layout(
        {"prod": "crmconf: 1\nstatus_types: [Vilande, Aktiv, Ej bearbetad, Ny]\n"},
        base="crmconf: 1\nindustries: [Bygg, Data/IT, Turism]\n",
    )
    saved = tmp_path / "plan.json"

    planned = cli("plan", root, "--env", "prod", "--target", url, "-o", saved)
    (root / "envs/prod/overlay.yaml").write_text("crmconf: 1\nstatus_types: [Vilande, Aktiv]\n")
    refused = cli("apply", saved, "--target", url, "--yes")
    with_env = cli("apply", saved, "--env", "prod", "--yes")

    assert planned.exit_code == 0, planned.output
    assert refused.exit_code == 1
    assert "stale plan: the configuration changed" in refused.stderr
    assert with_env.exit_code == 1
    assert "pass --env and --vars to 'crmconf plan'" in with_env.stderr


def test_drift_takes_an_environment(cli: Cli, layout: Callable[..., Path], tmp_path: Path) -> None:
    url = init_sandbox(f"sqlite:///{tmp_path / 'crm.db'}")
    init_sandbox(url, demo=True)
    root = layout({"prod": "crmconf: 1\nindustries: [Handel]\n"}, base="crmconf: 1\n")

    result = cli("drift", root, "--env", "prod", "--target", url)

    assert result.exit_code == 2
    assert '+ "Handel"' in result.stdout


# Editor support


def test_committed_overlay_schema_is_up_to_date(cli: Cli) -> None:
    committed = ROOT / "schemas" / "crmconf-overlay.schema.json"

    assert cli("schema", "--overlay").stdout == committed.read_text(encoding="utf-8"), (
        "schemas/crmconf-overlay.schema.json is out of date: run `make schema` and commit it"
    )


def test_overlay_schema_accepts_partial_items_and_drop_but_not_partial_stages() -> None:
    validator = jsonschema.Draft202012Validator(overlay_json_schema())
    overlay = {
        "crmconf": 1,
        "drop": {"industries": ["Turism"], "sales": {"stages": ["Vunnen"]}},
        "groups": [{"name": "Försäljning", "members": ["lisa@example.com"]}],
        "categories": [{"name": "Partner"}],
    }

    assert list(validator.iter_errors(overlay)) == []
    assert list(validator.iter_errors({**overlay, "drop": {"features": ["x"]}}))
    assert list(validator.iter_errors({**overlay, "sales": {"stages": [{"title": "A"}]}}))
    main_schema = json.loads((ROOT / "schemas" / "crmconf.schema.json").read_text())
    assert "drop" not in main_schema["properties"]


def test_names_holding_a_dollar_brace_survive_export_and_load(
    write_config: WriteConfig, tmp_path: Path
) -> None:
    from crmconf import api

    names = ["a ${b}", "a $${b}", "${X}", "x ${", "$$"]
    lines = "".join(f"  - '{name.replace('${', '$${')}'\n" for name in names)
    url = init_sandbox(f"sqlite:///{tmp_path / 'crm.db'}")
    init_sandbox(url)
    with api.open_target(url) as target:
        api.apply(api.plan(load(write_config(f"crmconf: 1\nindustries:\n{lines}")), target), target)
        exported = write_config(api.export(target), "exported.yaml")
        config = load(exported, variables={"b": "no", "X": "no"})

        assert _names(config, "industries") == names
        assert api.plan(config, target).empty
