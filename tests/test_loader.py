"""Loading configuration files: real YAML files in a temporary folder, through `crmconf.load`.

Each test states one loading rule of the FOUNDATION issue and fails when it is broken.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from crmconf.api import load
from crmconf.errors import ConfigError
from crmconf.model.configuration import Configuration
from tests.conftest import SEED

WriteConfig = Callable[..., Path]


def _problems(path: Path) -> list[str]:
    """The loader's problems for path, each as the user reads it."""
    with pytest.raises(ConfigError) as raised:
        load(path)
    return [str(problem) for problem in raised.value.problems]


def _one_problem(path: Path) -> str:
    problems = _problems(path)
    assert len(problems) == 1, problems
    return problems[0]


def _names(config: Configuration, kind: str) -> list[str]:
    return [record.name for record in config.sections[kind]]


# Single file and directories


def test_single_file_loads_every_written_section() -> None:
    config = load(SEED)

    assert set(config.sections) == {
        "customer_info.show_as_tab",
        "customer_info.contact_origins",
        "customer_info.products",
        "customer_info.sources",
        "categories",
        "groups",
        "industries",
        "status_types",
        "sales.rejection_reasons",
        "sales.types",
        "sales.stages",
        "features.restore_customers",
    }
    assert _names(config, "sales.stages") == [
        "Steg 1 Telefonsamtal",
        "Steg 2 Första besök",
        "Steg 3 Andra besök",
        "Steg 4 Uppföljningssamtal",
        "Steg 5 Förlorad kund",
    ]
    groups = {record.name: record.fields["parent"] for record in config.sections["groups"]}
    assert groups == {
        "Försäljning": None,
        "Försäljning Stockholm": "Försäljning",
        "Administration": None,
    }
    assert config.files == (str(SEED),)


def test_directory_merges_items_spread_over_its_yaml_files(write_config: WriteConfig) -> None:
    write_config("crmconf: 1\nindustries: [Bygg]\n", "conf/a.yaml")
    write_config("crmconf: 1\nindustries: [IT]\nstatus_types: [Aktiv]\n", "conf/b.yml")
    write_config("crmconf: 2\nthis is not read\n", "conf/notes.txt")
    hidden = write_config("crmconf: 1\nindustries: [Hidden]\n", "conf/.draft.yaml")

    config = load(hidden.parent)

    assert _names(config, "industries") == ["Bygg", "IT"]
    assert _names(config, "status_types") == ["Aktiv"]
    assert [Path(file).name for file in config.files] == ["a.yaml", "b.yml"]


def test_same_item_in_two_files_is_an_error_naming_both_places(write_config: WriteConfig) -> None:
    first = write_config("crmconf: 1\nindustries: [Bygg]\n", "conf/a.yaml")
    second = write_config("crmconf: 1\nindustries:\n  - IT\n  - BYGG\n", "conf/b.yaml")

    problem = _one_problem(first.parent)

    assert problem.startswith(f"{second}:4:5: ")
    assert "'BYGG' is defined twice" in problem
    assert f"also at {first}:2:14" in problem


@pytest.mark.parametrize(
    "section",
    [
        "sales:\n  stages:\n    - {title: Ny, probability: 10, status: open}\n",
        "customer_info:\n  products: [Lön]\n",
        "features:\n  restore_customers: true\n",
    ],
    ids=["stages", "option list", "switch"],
)
def test_ordered_list_or_switch_written_in_two_files_is_an_error(
    write_config: WriteConfig, section: str
) -> None:
    first = write_config("crmconf: 1\n" + section, "conf/a.yaml")
    second = write_config("crmconf: 1\n" + section, "conf/b.yaml")

    problem = _one_problem(first.parent)

    assert problem.startswith(f"{second}:")
    assert "written in two files" in problem
    assert f"also at {first}:" in problem


def test_directory_without_yaml_files_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("crmconf: 1\n")

    assert "holds no *.yaml or *.yml file" in _one_problem(tmp_path)


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"

    assert _one_problem(missing) == f"{missing}: no such file or directory"


# The format version


def test_missing_format_version_is_an_error_with_a_hint(write_config: WriteConfig) -> None:
    path = write_config("industries: [Bygg]\n")

    problem = _one_problem(path)

    assert problem.startswith(f"{path}:1:1: missing the format version")
    assert "add 'crmconf: 1'" in problem


@pytest.mark.parametrize("version", ["2", "0", '"1"', "true", "one"])
def test_unknown_format_version_is_an_error(write_config: WriteConfig, version: str) -> None:
    path = write_config(f"crmconf: {version}\nindustries: [Bygg]\n")

    problem = _one_problem(path)

    assert problem.startswith(f"{path}:1:10: unsupported format version")
    assert "write 'crmconf: 1'" in problem


# Unknown keys


@pytest.mark.parametrize(
    ("text", "unknown", "suggested"),
    [
        ("crmconf: 1\nindustrie: [Bygg]\n", "industrie", "industries"),
        ("crmconf: 1\nsales:\n  stage: []\n", "stage", "stages"),
        (
            "crmconf: 1\nsales:\n  stages:\n"
            "    - {title: Ny, probabilty: 10, probability: 10, status: open}\n",
            "probabilty",
            "probability",
        ),
        ("crmconf: 1\ngroups:\n  - {name: Sälj, type: sales, member: [a]}\n", "member", "members"),
    ],
    ids=["top level", "in a section", "in a stage", "in a group"],
)
def test_unknown_key_is_an_error_that_suggests_the_close_one(
    write_config: WriteConfig, text: str, unknown: str, suggested: str
) -> None:
    path = write_config(text)

    problem = _one_problem(path)

    assert re.match(rf"{re.escape(str(path))}:\d+:\d+: unknown key {unknown!r}", problem)
    assert f"did you mean {suggested!r}?" in problem


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("crmconf: 1\nindustrie:\n  - Bygg\n", "2:1"),
        ("crmconf: 1\nsales:\n  stage:\n    - {title: A, probability: 1, status: open}\n", "3:3"),
    ],
    ids=["top level", "in a section"],
)
def test_unknown_key_error_points_at_the_key(
    write_config: WriteConfig, text: str, where: str
) -> None:
    path = write_config(text)

    assert _one_problem(path).startswith(f"{path}:{where}: unknown key")


# Short forms and the product's Swedish labels


def test_bare_name_short_form_is_accepted_where_nothing_else_is_required(
    write_config: WriteConfig,
) -> None:
    path = write_config(
        """\
        crmconf: 1
        customer_info:
          contact_origins: [Mässa, {name: Webb}]
          products: [Lön]
          sources: [Google]
        industries: [Bygg, {name: IT, renamed_from: [Data/IT]}]
        status_types: [Aktiv]
        sales:
          rejection_reasons: [Pris]
          types: [Nyförsäljning]
        """
    )

    config = load(path)

    assert _names(config, "customer_info.contact_origins") == ["Mässa", "Webb"]
    assert _names(config, "industries") == ["Bygg", "IT"]
    assert config.sections["industries"][1].renamed_from == ("Data/IT",)
    for kind in ("customer_info.products", "customer_info.sources", "status_types"):
        assert len(config.sections[kind]) == 1
    assert _names(config, "sales.rejection_reasons") == ["Pris"]
    assert _names(config, "sales.types") == ["Nyförsäljning"]


@pytest.mark.parametrize(
    ("section", "missing"),
    [
        ("categories: [Partner]", "show_on"),
        ("groups: [Sälj]", "type"),
        ("sales:\n  stages: [Ny]", "probability"),
    ],
    ids=["category", "group", "stage"],
)
def test_bare_name_is_refused_where_another_field_is_required(
    write_config: WriteConfig, section: str, missing: str
) -> None:
    path = write_config(f"crmconf: 1\n{section}\n")

    problems = _problems(path)

    assert any(f"required key {missing!r} is missing" in problem for problem in problems)


@pytest.mark.parametrize(
    ("label", "status"),
    [
        ("Öppen", "open"),
        ("Öppen – vunnen", "open_won"),
        ("Öppen - vunnen", "open_won"),
        ("Stängd – vunnen", "closed_won"),
        ("Stängd - vunnen", "closed_won"),
        ("Stängd – tappad", "closed_lost"),
        ("Stängd - tappad", "closed_lost"),
        ("closed_lost", "closed_lost"),
        # Any case: the status is a choice, not a spelling.
        ("Open", "open"),
        ("öppen", "open"),
        ("Stängd – Vunnen", "closed_won"),
        ("Closed_Lost", "closed_lost"),
        ("ÖPPEN - VUNNEN", "open_won"),
    ],
)
def test_swedish_stage_status_labels_are_normalised(
    write_config: WriteConfig, label: str, status: str
) -> None:
    path = write_config(
        f"crmconf: 1\nsales:\n  stages:\n    - {{title: Steg, probability: 0, status: {label}}}\n"
    )

    (stage,) = load(path).sections["sales.stages"]

    assert stage.fields["status"] == status


@pytest.mark.parametrize("label", ["Stängd — tappad", "Stängd–tappad", "won", "Öppet"])
def test_other_stage_status_labels_are_refused(write_config: WriteConfig, label: str) -> None:
    path = write_config(
        f"crmconf: 1\nsales:\n  stages:\n    - {{title: Steg, probability: 0, status: {label}}}\n"
    )

    problem = _one_problem(path)
    assert problem.startswith(f"{path}:4:45: sales.stages[0].status: {label!r} is not one of")
    # Both the values and the product's Swedish labels are listed.
    assert "open, open_won, closed_won, closed_lost" in problem
    assert "Öppen, Öppen – vunnen, Stängd – vunnen, Stängd – tappad" in problem


@pytest.mark.parametrize(
    ("label", "group_type"),
    [("Standard", "standard"), ("Försäljning", "sales"), ("standard", "standard")],
)
def test_swedish_group_type_labels_are_normalised(
    write_config: WriteConfig, label: str, group_type: str
) -> None:
    path = write_config(f"crmconf: 1\ngroups:\n  - {{name: Sälj, type: {label}}}\n")

    (group,) = load(path).sections["groups"]

    assert group.fields["type"] == group_type


def test_unknown_group_type_is_refused(write_config: WriteConfig) -> None:
    path = write_config("crmconf: 1\ngroups:\n  - {name: Sälj, type: Sales}\n")

    problem = _one_problem(path)

    assert problem.startswith(f"{path}:3:24: groups[0].type: 'Sales' is not one of"), problem
    assert "did you mean 'sales'? write one of: standard, sales" in problem
    assert "or the product's label: Standard, Försäljning" in problem


# Names


def test_names_are_trimmed(write_config: WriteConfig) -> None:
    path = write_config(
        """\
        crmconf: 1
        industries: ['  Bygg  ', {name: "   IT "}]
        sales:
          rejection_reasons: [' Pris']
          stages:
            - {title: ' Förlorad ', probability: 0, status: closed_lost, rejection_reason: 'Pris '}
        """
    )

    config = load(path)

    assert _names(config, "industries") == ["Bygg", "IT"]
    (stage,) = config.sections["sales.stages"]
    assert stage.name == "Förlorad"
    assert stage.fields["rejection_reason"] == "Pris"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Bygg AB", "bygg ab"),
        ("Bygg AB", "BYGG   AB"),
        ("Bygg", "' Bygg '"),
        ("Straße", "STRASSE"),
        ("Öl", "öL"),
    ],
)
def test_names_equal_up_to_case_and_whitespace_are_duplicates(
    write_config: WriteConfig, first: str, second: str
) -> None:
    path = write_config(f"crmconf: 1\nindustries:\n  - {first}\n  - {second}\n")

    problem = _one_problem(path)

    assert problem.startswith(f"{path}:4:5: industry ")
    assert "is defined twice" in problem
    assert f"also at {path}:3:5" in problem


def test_duplicate_stage_titles_and_group_names_across_the_tree_are_errors(
    write_config: WriteConfig,
) -> None:
    path = write_config(
        """\
        crmconf: 1
        groups:
          - name: Sälj
            type: sales
            children:
              - {name: SÄLJ, type: sales}
        sales:
          stages:
            - {title: Ny, probability: 10, status: open}
            - {title: ny, probability: 20, status: open}
        """
    )

    problems = _problems(path)

    assert len(problems) == 2
    assert any("group 'SÄLJ' is defined twice" in problem for problem in problems)
    assert any("stage 'ny' is defined twice" in problem for problem in problems)


def test_names_differing_in_more_than_case_and_whitespace_are_distinct(
    write_config: WriteConfig,
) -> None:
    path = write_config("crmconf: 1\nindustries: [Bygg AB, ByggAB, Bygg-AB]\n")

    assert _names(load(path), "industries") == ["Bygg AB", "ByggAB", "Bygg-AB"]


def test_name_of_100_characters_is_accepted_and_101_refused(write_config: WriteConfig) -> None:
    accepted = write_config(f"crmconf: 1\nindustries: ['{'å' * 100}']\n", "ok.yaml")
    refused = write_config(f"crmconf: 1\nindustries: ['{'x' * 101}']\n", "long.yaml")

    assert _names(load(accepted), "industries") == ["å" * 100]
    problem = _one_problem(refused)
    assert problem.startswith(f"{refused}:2:14: industries[0].name:")
    assert "100" in problem


@pytest.mark.parametrize(
    "name",
    [r'"Bygg\tAB"', r'"Bygg\nAB"', r'"Bygg\0"', r'"Bygg\x7f"', r'"\e"', "''", "'   '"],
    ids=["tab", "newline", "NUL", "DEL", "escape", "empty", "blank"],
)
def test_names_with_control_characters_or_nothing_visible_are_refused(
    write_config: WriteConfig, name: str
) -> None:
    path = write_config(f"crmconf: 1\nindustries:\n  - {name}\n")

    assert _one_problem(path).startswith(f"{path}:3:5: industries[0].name:")


# Probability


@pytest.mark.parametrize(
    ("written", "value"),
    [("0", 0), ("15", 15), ("100", 100), ("15.0", 15)],
)
def test_probability_is_a_whole_number_from_0_to_100(
    write_config: WriteConfig, written: str, value: int
) -> None:
    path = write_config(
        f"crmconf: 1\nsales:\n  stages:\n    - {{title: A, probability: {written}, status: open}}\n"
    )

    (stage,) = load(path).sections["sales.stages"]

    assert stage.fields["probability"] == value
    assert type(stage.fields["probability"]) is int


@pytest.mark.parametrize(
    "written", ["true", "false", '"15"', "'0'", "101", "-1", "15.5", "1.0e+3", "null"]
)
def test_probability_that_is_not_a_whole_number_from_0_to_100_is_refused(
    write_config: WriteConfig, written: str
) -> None:
    path = write_config(
        f"crmconf: 1\nsales:\n  stages:\n    - {{title: A, probability: {written}, status: open}}\n"
    )

    assert _one_problem(path).startswith(f"{path}:4:31: sales.stages[0].probability:")


# YAML surprises: what YAML 1.1 (PyYAML) and YAML 1.2 (editors) read differently


@pytest.mark.parametrize(
    "written",
    [
        "No",
        "on",
        "yes",
        "OFF",
        "1.0",
        "0o17",
        "017",
        "~",
        "null",
        "12",
        "true",
        "1_000",
        "2024-05-01",
    ],
)
def test_plain_scalar_where_a_name_is_expected_is_an_error_that_suggests_quoting(
    write_config: WriteConfig, written: str
) -> None:
    path = write_config(f"crmconf: 1\nindustries:\n  - Bygg\n  - {written}\n")

    problem = _one_problem(path)

    assert problem.startswith(f"{path}:4:5: ")
    assert "quot" in problem.split("hint:")[-1], problem
    assert f'"{written}"' in problem, problem


@pytest.mark.parametrize("written", ["No", "on", "1.0", "0o17", "~"])
def test_plain_scalar_where_a_title_is_expected_is_an_error_that_suggests_quoting(
    write_config: WriteConfig, written: str
) -> None:
    path = write_config(
        f"crmconf: 1\nsales:\n  stages:\n    - title: {written}\n"
        "      probability: 10\n      status: open\n"
    )

    problem = _one_problem(path)

    assert problem.startswith(f"{path}:4:14: ")
    assert "hint:" in problem and "quot" in problem.split("hint:")[-1], problem


@pytest.mark.parametrize("written", ['"No"', "'on'", '"1.0"', '"0o17"', '"~"', "'017'"])
def test_quoted_scalars_are_names(write_config: WriteConfig, written: str) -> None:
    path = write_config(f"crmconf: 1\nindustries:\n  - {written}\n")

    assert _names(load(path), "industries") == [written[1:-1]]


def test_every_yaml_surprise_in_a_file_is_reported_at_once(write_config: WriteConfig) -> None:
    path = write_config("crmconf: 1\nindustries:\n  - No\n  - Bygg\n  - on\n")

    problems = _problems(path)

    assert [problem.split(": ")[0] for problem in problems] == [f"{path}:3:5", f"{path}:5:5"]


# Duplicate keys and tags


@pytest.mark.parametrize(
    ("text", "where", "key"),
    [
        ("crmconf: 1\nindustries: [Bygg]\nindustries: [IT]\n", "3:1", "industries"),
        ("crmconf: 1\nindustries:\n  - {name: Bygg, name: IT}\n", "3:18", "name"),
        ("crmconf: 1\ncrmconf: 1\n", "2:1", "crmconf"),
    ],
    ids=["section", "item field", "format version"],
)
def test_duplicate_mapping_keys_are_an_error(
    write_config: WriteConfig, text: str, where: str, key: str
) -> None:
    path = write_config(text)

    problem = _one_problem(path)

    assert problem.startswith(f"{path}:{where}: duplicate key {key!r}")


@pytest.mark.parametrize(
    "tagged",
    [
        "!!python/object/apply:os.system ['touch {marker}']",
        "!!python/object:collections.OrderedDict {{}}",
        "!!python/name:os.system",
        "!!binary aGVsbG8=",
        "!custom Bygg",
        "!!set {{Bygg: null}}",
    ],
)
def test_tags_outside_plain_yaml_are_refused_and_never_run(
    write_config: WriteConfig, tmp_path: Path, tagged: str
) -> None:
    marker = tmp_path / "ran"
    path = write_config(f"crmconf: 1\nindustries:\n  - {tagged.format(marker=marker)}\n")

    problems = _problems(path)

    assert problems[0].startswith(f"{path}:3:5: tag ")
    assert "not allowed" in problems[0]
    assert not marker.exists()


# Sections: absent, empty list, null


def test_empty_section_is_an_error_with_a_hint(write_config: WriteConfig) -> None:
    path = write_config("crmconf: 1\nindustries:\nstatus_types: []\n")

    problem = _one_problem(path)

    assert problem.startswith(f"{path}:2:")
    assert "industries" in problem
    assert "[]" in problem.split("hint:")[1]


def test_empty_list_means_none_and_absent_section_is_not_managed(
    write_config: WriteConfig,
) -> None:
    path = write_config("crmconf: 1\nindustries: []\n")

    config = load(path)

    assert config.sections == {"industries": ()}
    assert "status_types" not in config.sections
    assert "sales.stages" not in config.sections


def test_file_of_only_the_format_version_manages_nothing(write_config: WriteConfig) -> None:
    assert load(write_config("crmconf: 1\n")).sections == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("# only a comment\n", "the file is empty"),
        ("- crmconf: 1\n", "a configuration is a mapping of sections"),
        ("crmconf: 1\n---\ncrmconf: 1\n", "found a second one"),
        ("crmconf: 1\nindustries: [Bygg\n", "YAML syntax error"),
    ],
    ids=["empty", "comment", "list", "two documents", "syntax"],
)
def test_files_that_are_no_configuration_are_errors_with_a_location(
    write_config: WriteConfig, text: str, message: str
) -> None:
    path = write_config(text)

    problem = _one_problem(path)

    assert re.match(rf"{re.escape(str(path))}:\d+:\d+: ", problem), problem
    assert message in problem


def test_invalid_utf8_is_an_error_at_its_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("crmconf: 1\nindustries: [Bygg, Öl]\n".encode("latin-1"))

    problem = _one_problem(path)

    assert problem.startswith(f"{path}:2:20: invalid UTF-8 byte 0xd6")
