"""The committed JSON Schema: current, valid, and of the same verdict as crmconf itself.

Checked with the `jsonschema` library and with the third-party `check-jsonschema`
command, as an editor or a CI pipeline would use it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import Result

from crmconf.api import load
from crmconf.errors import ConfigError
from tests.conftest import ROOT

Cli = Callable[..., Result]

SCHEMA = ROOT / "schemas" / "crmconf.schema.json"
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"


def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))


def test_committed_schema_is_up_to_date(cli: Cli) -> None:
    printed = cli("schema")

    assert printed.exit_code == 0, printed.output
    assert SCHEMA.read_text(encoding="utf-8") == printed.stdout, (
        "schemas/crmconf.schema.json is out of date: run `make schema` and commit it"
    )


def test_schema_written_to_a_file_is_the_printed_one(cli: Cli, tmp_path: Path) -> None:
    written = tmp_path / "schema.json"

    result = cli("schema", "-o", written)

    assert result.exit_code == 0, result.output
    assert written.read_text(encoding="utf-8") == cli("schema").stdout


def test_schema_is_a_valid_2020_12_schema() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))

    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schema_keywords_are_all_known_to_json_schema() -> None:
    """A misspelt keyword (pydantic's `ge` for `minimum`) is silently ignored by validators."""
    known = set(jsonschema.Draft202012Validator.VALIDATORS) | {
        "$schema",
        "$id",
        "$defs",
        "$ref",
        "title",
        "description",
        "default",
        "examples",
    }
    unknown: set[str] = set()

    def visit(node: Any, in_properties: bool = False) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if not in_properties and key not in known:
                    unknown.add(key)
                visit(value, in_properties=key in ("properties", "$defs"))
        elif isinstance(node, list):
            for item in node:
                visit(item)

    visit(json.loads(SCHEMA.read_text(encoding="utf-8")))

    assert unknown == set()


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
def test_schema_accepts_the_examples(example: Path) -> None:
    document = yaml.safe_load(example.read_text(encoding="utf-8"))

    assert list(_validator().iter_errors(document)) == []


# The check-jsonschema command, as in a CI pipeline


def _check_jsonschema(*files: Path, output: str = "text") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--schemafile", str(SCHEMA), "-o", output, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_jsonschema_passes_on_the_examples() -> None:
    run = _check_jsonschema(*EXAMPLES)

    assert run.returncode == 0, run.stdout + run.stderr


def test_an_export_points_editors_at_a_schema_that_exists_beside_it(
    cli: Cli, demo_url: str, tmp_path: Path
) -> None:
    """The `$schema=` of an export resolves (relative to the file) to the current schema."""
    exported = tmp_path / "crm" / "settings.yaml"
    exported.parent.mkdir()

    written = cli("export", "--target", demo_url, "-o", exported)

    assert written.exit_code == 0, written.output
    first = exported.read_text(encoding="utf-8").splitlines()[0]
    reference = first.removeprefix("# yaml-language-server: $schema=")
    assert reference != first, first
    schema = exported.parent / reference
    assert schema.read_text(encoding="utf-8") == cli("schema").stdout
    run = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--schemafile", str(schema), str(exported)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_an_export_to_stdout_says_how_to_write_its_schema(cli: Cli, demo_url: str) -> None:
    header = cli("export", "--target", demo_url).stdout.splitlines()[:2]

    assert header[0] == "# yaml-language-server: $schema=./crmconf.schema.json"
    assert header[1].endswith("The schema beside it: crmconf schema -o crmconf.schema.json")


INVALID_FILES = {
    "unknown key": "crmconf: 1\nindustrie: [Bygg]\n",
    "missing version": "industries: [Bygg]\n",
    "bad status": "crmconf: 1\nsales:\n  stages: [{title: A, probability: 10, status: won}]\n",
    "probability 101": "crmconf: 1\nsales:\n  stages: [{title: A, probability: 101, status: open}]\n",
    "probability -1": "crmconf: 1\nsales:\n  stages: [{title: A, probability: -1, status: open}]\n",
    "empty section": "crmconf: 1\nindustries:\n",
}


def test_check_jsonschema_fails_on_every_invalid_file(tmp_path: Path) -> None:
    files = {}
    for name, text in INVALID_FILES.items():
        path = tmp_path / f"{name.replace(' ', '-')}.yaml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError):
            load(path)
        files[str(path)] = name

    run = _check_jsonschema(*map(Path, files), output="json")

    assert run.returncode == 1, run.stdout + run.stderr
    report = json.loads(run.stdout)
    failed = {error["filename"] for error in report["errors"] + report["parse_errors"]}
    passed = [name for file, name in files.items() if file not in failed]
    assert passed == [], f"check-jsonschema accepted invalid files: {passed}"


# The schema's verdict is crmconf's verdict, file by file

VERDICTS: dict[str, tuple[bool, dict[str, Any]]] = {
    "short forms": (
        True,
        {
            "crmconf": 1,
            "industries": ["Bygg", {"name": "IT", "renamed_from": ["Data/IT"]}],
            "customer_info": {"products": ["Lön"], "sources": [{"name": "Google"}]},
            "sales": {"rejection_reasons": ["Pris"], "types": ["Nyförsäljning"]},
        },
    ),
    "short form of a stage": (False, {"crmconf": 1, "sales": {"stages": ["Ny"]}}),
    "short form of a category": (False, {"crmconf": 1, "categories": ["Partner"]}),
    "swedish stage labels": (
        True,
        {
            "crmconf": 1,
            "sales": {
                "stages": [
                    {"title": "A", "probability": 10, "status": "Öppen"},
                    {"title": "B", "probability": 100, "status": "Öppen – vunnen"},
                    {"title": "C", "probability": 100, "status": "Stängd - vunnen"},
                    {"title": "D", "probability": 0, "status": "Stängd – tappad"},
                ]
            },
        },
    ),
    "stage statuses in any case": (
        True,
        {
            "crmconf": 1,
            "sales": {
                "stages": [
                    {"title": "A", "probability": 10, "status": "öppen"},
                    {"title": "B", "probability": 100, "status": "ÖPPEN - VUNNEN"},
                    {"title": "C", "probability": 100, "status": "Stängd – Vunnen"},
                    {"title": "D", "probability": 0, "status": "Closed_Lost"},
                ]
            },
        },
    ),
    **{
        f"name of only {name!r}": (False, {"crmconf": 1, "industries": ["Bygg", name]})
        for name in ("\u00ad", "\u3164", "\u2800", "\u0301", "\u2061", "\u180e", "\ufe0f", "\u200b")
    },
    **{
        f"name holding {control!r}": (False, {"crmconf": 1, "industries": [f"Bygg{control}x"]})
        for control in ("\u202e", "\u2066", "\u200f", "\u061c")
    },
    "name with a joiner inside": (True, {"crmconf": 1, "industries": ["By\u200dgg"]}),
    "name decomposed": (True, {"crmconf": 1, "industries": ["Ma\u0308ssa"]}),
    "unknown stage label": (
        False,
        {"crmconf": 1, "sales": {"stages": [{"title": "A", "probability": 1, "status": "Öppet"}]}},
    ),
    "swedish group types": (
        True,
        {
            "crmconf": 1,
            "groups": [
                {
                    "name": "A",
                    "type": "Försäljning",
                    "children": [{"name": "B", "type": "Standard"}],
                }
            ],
        },
    ),
    "probability 15.0": (
        True,
        {
            "crmconf": 1,
            "sales": {"stages": [{"title": "A", "probability": 15.0, "status": "open"}]},
        },
    ),
    **{
        f"probability {value!r}": (
            False,
            {
                "crmconf": 1,
                "sales": {"stages": [{"title": "A", "probability": value, "status": "open"}]},
            },
        )
        for value in (101, -1, 15.5, True, "15", None)
    },
    "unknown key": (False, {"crmconf": 1, "industrie": []}),
    "unknown item key": (False, {"crmconf": 1, "industries": [{"name": "A", "title": "B"}]}),
    "missing crmconf": (False, {"industries": []}),
    "crmconf 2": (False, {"crmconf": 2}),
    "crmconf as text": (False, {"crmconf": "1"}),
    "null section": (False, {"crmconf": 1, "industries": None}),
    "name of 100": (True, {"crmconf": 1, "industries": ["x" * 100]}),
    "name of 101": (False, {"crmconf": 1, "industries": ["x" * 101]}),
    "blank name": (False, {"crmconf": 1, "industries": ["  "]}),
    "name with a tab": (False, {"crmconf": 1, "industries": ["a\tb"]}),
    "number as name": (False, {"crmconf": 1, "industries": [1.0]}),
    "switch true": (True, {"crmconf": 1, "features": {"restore_customers": True}}),
    **{
        f"switch {value!r}": (False, {"crmconf": 1, "features": {"restore_customers": value}})
        for value in (0, 1, "true", "no", None)
    },
    "member with a space": (
        False,
        {"crmconf": 1, "groups": [{"name": "A", "type": "sales", "members": ["a b"]}]},
    ),
    "max_deletes -1": (False, {"crmconf": 1, "safety": {"max_deletes": -1}}),
    **{
        f"group type {value}": (
            value == 2**31 - 1,
            {"crmconf": 1, "groups": [{"name": "A", "type": value}]},
        )
        for value in (2**31 - 1, 2**31, -1, 123456789012345678901234)
    },
    **{
        f"member {value}": (
            value == 2**31 - 1,
            {"crmconf": 1, "groups": [{"name": "A", "type": "sales", "members": [value]}]},
        )
        for value in (2**31 - 1, 2**31, -1)
    },
    "description holding NUL": (
        False,
        {"crmconf": 1, "groups": [{"name": "A", "type": "sales", "description": "a\u0000b"}]},
    ),
}


@pytest.mark.parametrize("case", list(VERDICTS))
def test_schema_and_crmconf_give_the_same_verdict(tmp_path: Path, case: str) -> None:
    expected, document = VERDICTS[case]
    path = tmp_path / "config.yaml"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    try:
        load(path)
        crmconf_accepts = True
    except ConfigError:
        crmconf_accepts = False

    schema_accepts = _validator().is_valid(document)

    assert (crmconf_accepts, schema_accepts) == (expected, expected)
