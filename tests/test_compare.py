"""crmconf compare: every tenant against the firm's standard, as one matrix."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from crmconf.targets.sandbox.admin import init_sandbox

Cli = Callable[..., Result]

STANDARD = """\
crmconf: 1
categories: [{name: Partner, show_on: both}]
industries: [Bygg, Handel]
sales:
  stages:
    - {title: Steg 1, probability: 20, status: open}
    - {title: Vunnen, probability: 100, status: closed_won}
"""
DEVIATING = """\
crmconf: 1
categories: [{name: Partner, show_on: customer}]
industries: [bygg, Handel, Turism]
sales:
  stages:
    - {title: Steg 1, probability: 25, status: open}
    - {title: Vunnen, probability: 100, status: closed_won}
"""


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    (tmp_path / "standard.yaml").write_text(STANDARD)
    (tmp_path / "same.yaml").write_text(STANDARD)
    (tmp_path / "other.yaml").write_text(DEVIATING)
    (tmp_path / "few.yaml").write_text("crmconf: 1\nindustries: [Bygg, Handel]\n")
    urls = {name: init_sandbox(f"sqlite:///{tmp_path / name}.db") for name in ("a", "b", "c")}
    (tmp_path / "crmconf.yaml").write_text(
        textwrap.dedent(
            f"""\
            crmconf: 1
            standard: standard.yaml
            tenants:
              - {{name: a, target: "{urls["a"]}", config: same.yaml}}
              - {{name: b, target: "{urls["b"]}", config: other.yaml}}
              - {{name: c, target: "{urls["c"]}", config: few.yaml}}
            """
        )
    )
    return tmp_path / "crmconf.yaml"


def test_compare_shows_each_tenants_differences_and_exits_2(cli: Cli, fleet: Path) -> None:
    result = cli("compare", "--project", fleet, "--format", "json")

    assert result.exit_code == 2, result.output
    document = json.loads(result.stdout)
    assert document["tenants"] == ["a", "b", "c"]
    assert document["matches"] is False
    cells = {
        (kind["kind"], item["name"]): item["cells"]
        for kind in document["kinds"]
        for item in kind["items"]
    }
    assert cells[("industries", "Bygg")] == {
        "a": {"state": "same"},
        "b": {"state": "differs", "differences": {"name": {"standard": "Bygg", "tenant": "bygg"}}},
        "c": {"state": "same"},
    }
    assert cells[("industries", "Turism")]["b"] == {"state": "extra"}
    assert cells[("industries", "Turism")]["a"] == {"state": "same"}  # absent, as in the standard
    assert cells[("sales.stages", "Steg 1")]["b"]["differences"] == {
        "probability": {"standard": 20, "tenant": 25}
    }
    assert cells[("categories", "Partner")]["c"] == {"state": "missing"}


def test_compare_as_text_and_markdown(cli: Cli, fleet: Path) -> None:
    text = cli("compare", "--project", fleet)
    markdown = cli("compare", "--project", fleet, "--format", "markdown")

    assert 'b: "Steg 1": probability: 20 → 25' in text.stdout
    assert text.stdout.rstrip().endswith("2 of 3 tenants differ")
    assert markdown.stdout.startswith("<!-- crmconf-compare -->\n### crmconf compare: 2 of 3")
    assert "| Steg 1 | same | **differs**: probability: 20 → 25 | **missing** |" in markdown.stdout


def test_against_a_tenant_and_all_matching_exits_0(cli: Cli, fleet: Path) -> None:
    project = fleet.read_text().replace("config: few.yaml", "config: same.yaml")
    project = project.replace("config: other.yaml", "config: same.yaml")
    fleet.write_text(project)

    result = cli("compare", "--project", fleet, "--against", "a")

    assert result.exit_code == 0, result.output
    assert "every tenant matches tenant a" in result.stdout


def test_live_compares_each_crm(cli: Cli, fleet: Path) -> None:
    assert cli("apply", "--all", "--project", fleet, "--yes").exit_code == 0

    live = cli("compare", "--project", fleet, "--live", "--format", "json")
    configured = cli("compare", "--project", fleet, "--format", "json")

    assert live.exit_code == 2, live.output
    live_cells = json.loads(live.stdout)["kinds"]
    configured_cells = json.loads(configured.stdout)["kinds"]
    by_kind = {kind["kind"]: kind for kind in live_cells}
    assert by_kind["industries"] == next(k for k in configured_cells if k["kind"] == "industries")
    # The CRM of c holds no categories at all: missing there too.
    partner = by_kind["categories"]["items"][0]
    assert partner["cells"]["c"] == {"state": "missing"}


def test_bad_input_is_an_error_naming_it(cli: Cli, fleet: Path, tmp_path: Path) -> None:
    unknown = cli("compare", "--project", fleet, "--against", "nobody")
    assert unknown.exit_code == 1
    assert "--against nobody: no tenant of" in unknown.stderr and "(a, b, c)" in unknown.stderr
    fleet.write_text(fleet.read_text().replace("standard: standard.yaml\n", ""))
    no_standard = cli("compare", "--project", fleet)
    assert no_standard.exit_code == 1
    assert "names no standard to compare with" in no_standard.stderr
    (tmp_path / "few.yaml").write_text("crmconf: 1\nindustries:\n  - Bygg\n  - ${NOPE}\n")
    broken = cli("compare", "--project", fleet, "--against", "a")
    assert broken.exit_code == 1
    assert "c: error: invalid configuration:" in broken.stdout
    assert "variable NOPE is not set" in broken.stdout


def test_compare_as_one_self_contained_page(cli: Cli, fleet: Path, tmp_path: Path) -> None:
    page = tmp_path / "compare.html"

    result = cli("compare", "--project", fleet, "--format", "html", "-o", page)

    assert result.exit_code == 2, result.output
    html = page.read_text(encoding="utf-8")
    assert "http" not in html  # no external asset
    assert '<table class="matrix" data-kind="sales.stages">' in html
    assert '<td class="differs" title="probability: 20 → 25">probability: 20 → 25</td>' in html
    assert html.count('<td class="missing"') >= 3


def test_live_on_24sevenoffice_marks_what_the_api_cannot_read_unknown(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crmconf.testing import FakeTwentyFour

    (tmp_path / "standard.yaml").write_text(
        "crmconf: 1\ncategories: [{name: Partner, show_on: both}]\n"
        "sales:\n  types: [Nyförsäljning]\n"
    )
    (tmp_path / "crmconf.yaml").write_text(
        "crmconf: 1\nstandard: standard.yaml\n"
        "tenants:\n  - {name: api, target: '24so://', config: standard.yaml}\n"
    )
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    with FakeTwentyFour() as fake:
        for name, value in fake.env().items():
            monkeypatch.setenv(name, value)
        result = cli(
            "compare", "--project", tmp_path / "crmconf.yaml", "--live", "--format", "json"
        )
        writes = fake.write_calls()

    assert result.exit_code == 2, result.output
    cells = {
        (kind["kind"], item["name"]): item["cells"]["api"]
        for kind in json.loads(result.stdout)["kinds"]
        for item in kind["items"]
    }
    assert cells[("sales.types", "Nyförsäljning")] == {"state": "unknown"}
    assert cells[("categories", "Partner")]["state"] in ("same", "differs")
    assert writes == []
