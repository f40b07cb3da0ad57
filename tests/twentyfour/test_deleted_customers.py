"""`crmconf customers deleted --target 24so://`: GetCompanySyncList, paged; restoring stays manual."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from click.testing import Result

from crmconf.targets.twentyfour import TwentyFourClient
from crmconf.testing import FakeTwentyFour

Cli = Callable[..., Result]


@pytest.fixture
def crm(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTwentyFour]:
    with FakeTwentyFour() as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("CRMCONF_24SO_RETRIES", "0")
        server.data.sync_page_size = 2
        for company_id in (10003, 10007, 10011):
            server.data.delete_company(company_id)
        yield server


def test_deleted_customers_are_listed_page_by_page(cli: Cli, crm: FakeTwentyFour) -> None:
    result = cli("customers", "deleted", "--target", "24so://")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "3 deleted customers:"
    assert [line.split()[0] for line in lines[2:5]] == ["10003", "10007", "10011"]
    assert "crmconf cannot restore these (the API has no restore)" in result.stdout
    assert "restore by hand: in 24SevenOffice open CRM → Kunder" in result.stdout
    assert "crmconf customers restore" not in result.stdout
    assert crm.count("GetCompanySyncList") == 2  # three deleted, two a page
    assert crm.write_calls() == []
    requests = [c.request_body for c in crm.calls if c.operation == "GetCompanySyncList"]
    assert all(b"<ns0:Active>false</ns0:Active>" in body for body in requests)


def test_deleted_customers_as_json_say_restoring_is_manual(cli: Cli, crm: FakeTwentyFour) -> None:
    result = cli("customers", "deleted", "--target", "24so://", "--format", "json")

    document = json.loads(result.stdout)
    assert [c["id"] for c in document["customers"]] == [10003, 10007, 10011]
    assert document["restore_by_hand"].startswith("in 24SevenOffice open CRM")


def test_no_deleted_customers(cli: Cli, crm: FakeTwentyFour) -> None:
    for company in crm.data.companies.values():
        company.active = True

    result = cli("customers", "deleted", "--target", "24so://")

    assert result.exit_code == 0 and result.stdout == "No deleted customers.\n"


def test_restore_on_24so_is_refused_with_the_click_path(cli: Cli, crm: FakeTwentyFour) -> None:
    result = cli("customers", "restore", "10003", "--target", "24so://", "--yes")

    assert result.exit_code == 1
    assert "the API has no restore" in result.stderr and "restore by hand:" in result.stderr
    assert "Traceback" not in result.output
    assert crm.write_calls() == []


def test_deleted_companies_leave_get_companies_but_not_the_sync_list(
    crm: FakeTwentyFour,
) -> None:
    with TwentyFourClient.from_env(crm.env()) as client:
        living = {c.id for c in client.company_assignments()}
        everyone = {c.id: c.active for c in client.company_sync_list(active=None)}

    assert {10003, 10007, 10011}.isdisjoint(living) and len(living) == 9
    assert len(everyone) == 12 and not everyone[10007] and everyone[10001]
