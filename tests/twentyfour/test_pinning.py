"""Pinning the 24SevenOffice client: the plan names it, apply refuses any other, onboarding lists it.

Through the `crmconf` command (in-process) against the fake over HTTP on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import Result

from crmconf import api
from crmconf.config.reading import load
from crmconf.errors import ConfigError, TargetError
from crmconf.tenants import open_tenant_target
from crmconf.tenants.project import load_project
from crmconf.testing import FakeTwentyFour

Cli = Callable[..., Result]
DEMO = "11111111-2222-4333-8444-555555555555"  # Demo AS, org 912345678, the default
SANDBOX = "11111111-2222-4333-8444-666666666666"  # Demo Sandbox AS, org 987654321
CONFIG = "crmconf: 1\ncategories:\n  - {name: VIP, show_on: both}\n  - {name: Events, show_on: customer}\n"


@pytest.fixture
def crm(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTwentyFour]:
    with FakeTwentyFour() as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("CRMCONF_24SO_RETRIES", "0")
        monkeypatch.delenv("CRMCONF_24SO_ORGANIZATION_NUMBER", raising=False)
        monkeypatch.delenv("CRMCONF_TARGET", raising=False)
        yield server


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_every_plan_starts_with_the_client_it_reads(
    cli: Cli, crm: FakeTwentyFour, config: Path
) -> None:
    result = cli("plan", config, "--target", "24so://")

    assert result.exit_code == 0, result.output
    first = result.stdout.splitlines()[0]
    assert first.startswith("24so:// → Demo AS (org 912345678); not pinned")
    assert crm.count("GetClientInformation") == 1


def test_a_pinned_matching_client_is_applied(
    cli: Cli, crm: FakeTwentyFour, config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRMCONF_24SO_ORGANIZATION_NUMBER", "912 345 678")

    result = cli("apply", config, "--target", "24so://", "--yes")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        "24so:// → Demo AS (org 912345678), pinned by CRMCONF_24SO_ORGANIZATION_NUMBER"
    )
    assert "Events" in {c.name for c in crm.data.categories.values()}
    assert crm.count("GetClientInformation") == 1  # once per run


def test_apply_to_another_client_is_refused_before_any_write(
    cli: Cli, crm: FakeTwentyFour, config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRMCONF_24SO_ORGANIZATION_NUMBER", "912345678")

    result = cli("apply", config, "--target", f"24so://{SANDBOX}", "--yes")

    assert result.exit_code == 1
    assert "NOT the pinned org 912345678" in result.stdout.splitlines()[0]
    assert "refusing to apply" in result.stderr
    assert "'Demo Sandbox AS' (org 987654321)" in result.stderr
    assert "org 912345678" in result.stderr and "nothing was applied" in result.stderr
    assert "Traceback" not in result.output
    assert crm.write_calls() == []


def test_the_target_url_can_pin_the_client(cli: Cli, crm: FakeTwentyFour, config: Path) -> None:
    url = f"24so://{DEMO}?organization_number=987654321&client_name=Demo%20Sandbox%20AS"

    result = cli("apply", config, "--target", url, "--yes")

    assert result.exit_code == 1
    assert "'Demo Sandbox AS' org 987654321 by the target URL" in result.stderr
    assert crm.write_calls() == []


def test_an_unknown_url_setting_or_a_bad_number_is_a_clear_error(
    cli: Cli, crm: FakeTwentyFour, config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unknown = cli("plan", config, "--target", "24so://?org=1")
    assert unknown.exit_code == 1 and "unknown setting 'org'" in unknown.stderr

    monkeypatch.setenv("CRMCONF_24SO_ORGANIZATION_NUMBER", "Acme")
    bad = cli("plan", config, "--target", "24so://")
    assert bad.exit_code == 1 and "must be an organisation number" in bad.stderr
    assert crm.calls == []


def test_a_tenant_entry_pins_its_client(crm: FakeTwentyFour, tmp_path: Path, config: Path) -> None:
    (tmp_path / "crmconf.yaml").write_text(
        "crmconf: 1\ntenants:\n"
        f"  - {{name: demo, target: '24so://{SANDBOX}', config: config.yaml,"
        " organization_number: '912345678'}\n",
        encoding="utf-8",
    )
    (tenant,) = load_project(tmp_path / "crmconf.yaml").tenants

    with open_tenant_target(tenant, crm.env()) as target:
        plan = api.plan(load(config), target)
        with pytest.raises(TargetError, match="refusing to apply"):
            api.apply(plan, target)

    assert crm.write_calls() == []


def test_a_pin_on_a_database_tenant_is_refused(tmp_path: Path) -> None:
    (tmp_path / "crmconf.yaml").write_text(
        "crmconf: 1\ntenants:\n"
        "  - {name: db, target: 'sqlite:///x.db', config: c.yaml, organization_number: '1'}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="organization_number pins a 24SevenOffice client"):
        load_project(tmp_path / "crmconf.yaml")


def test_identities_show_names_and_organisation_numbers(cli: Cli, crm: FakeTwentyFour) -> None:
    result = cli("24so", "identities")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"24so://{DEMO}\tDemo AS\torg 912345678\t(current, default)",
        f"24so://{SANDBOX}\tDemo Sandbox AS\torg 987654321",
    ]
    assert crm.write_calls() == []


def test_identities_as_tenant_entries_load_as_a_project(
    cli: Cli, crm: FakeTwentyFour, tmp_path: Path
) -> None:
    result = cli("24so", "identities", "--format", "tenants")

    assert result.exit_code == 0, result.output
    assert yaml.safe_load(result.stdout)["tenants"][1] == {
        "name": "demo-sandbox-as",
        "target": f"24so://{SANDBOX}",
        "config": "companies/demo-sandbox-as",
        "organization_number": "987654321",
    }
    (tmp_path / "crmconf.yaml").write_text("crmconf: 1\n" + result.stdout, encoding="utf-8")
    tenants = load_project(tmp_path / "crmconf.yaml").tenants
    assert [(t.name, t.organization_number) for t in tenants] == [
        ("demo-as", "912345678"),
        ("demo-sandbox-as", "987654321"),
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("organization_number=", "organization_number is empty"),
        ("organization_number=%20&client_name=Demo%20AS", "organization_number is empty"),
        ("client_name=", "client_name is empty"),
        ("organization_number=912345678&organization_number=987654321", "given twice"),
    ],
)
def test_a_blank_or_repeated_pin_in_the_url_is_refused_not_ignored(
    cli: Cli, crm: FakeTwentyFour, config: Path, query: str, expected: str
) -> None:
    # A pin written as ?organization_number=${ORG} with ORG unset came out blank and
    # pinned nothing: apply wrote to whichever client the identity was. A repeated one
    # silently kept the last.
    result = cli("apply", config, "--target", f"24so://{SANDBOX}?{query}", "--yes")

    assert result.exit_code == 1, result.output
    assert expected in result.stderr
    assert "Traceback" not in result.output
    assert crm.write_calls() == []


def test_a_name_from_the_account_cannot_forge_a_line_of_a_listing(
    cli: Cli, crm: FakeTwentyFour
) -> None:
    # Names are the account's data, typed by anyone with access to it.
    crm.data.identities[1].client_name = "Evil AS\n24so://forged\tBank AS\torg 1"
    crm.data.users[0].name = "Kari\n999\tNobody"

    listed = cli("24so", "identities")
    users = cli("24so", "users")

    assert listed.exit_code == users.exit_code == 0, listed.output + users.output
    assert len(listed.stdout.splitlines()) == 2
    assert "Evil AS\\n24so://forged\\tBank AS\\torg 1" in listed.stdout
    assert len(users.stdout.splitlines()) == 3
    assert "Kari\\n999\\tNobody" in users.stdout
