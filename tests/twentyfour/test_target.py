"""The 24SevenOffice target: opening by URL, capabilities, and reading state from the fake."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from crmconf import api
from crmconf.config.reading import load
from crmconf.errors import TargetError
from crmconf.kinds import (
    ALL_KINDS,
    CATEGORIES,
    GROUPS,
    INDUSTRIES,
    KINDS_BY_NAME,
    STAGES,
    STATUS_TYPES,
)
from crmconf.model.state import Usage
from crmconf.planning.changes import Capability
from crmconf.targets import open_target
from crmconf.targets.capabilities import Feature
from crmconf.targets.twentyfour.target import TwentyFourTarget
from crmconf.testing import FakeGroup, FakeGroupMember, FakeTwentyFour

IDENTITY = "11111111-2222-4333-8444-666666666666"


@pytest.fixture
def target(fake: FakeTwentyFour) -> Iterator[TwentyFourTarget]:
    with TwentyFourTarget.open("24so://", fake.env()) as opened:
        assert isinstance(opened, TwentyFourTarget)
        yield opened


def _env(monkeypatch: pytest.MonkeyPatch, fake: FakeTwentyFour) -> None:
    for name, value in fake.env().items():
        monkeypatch.setenv(name, value)


# Opening


def test_open_target_knows_the_24so_scheme(
    monkeypatch: pytest.MonkeyPatch, fake: FakeTwentyFour
) -> None:
    _env(monkeypatch, fake)

    with open_target("24so://") as plain, open_target(f"24so://{IDENTITY}") as chosen:
        assert isinstance(plain, TwentyFourTarget) and plain.url == "24so://"
        assert isinstance(chosen, TwentyFourTarget) and chosen.url == f"24so://{IDENTITY}"
        assert fake.env()["CRMCONF_24SO_PASSWORD"] not in repr(vars(chosen))
        chosen.read([CATEGORIES])

    login = next(call for call in fake.calls if call.operation == "Login")
    assert IDENTITY.encode() in login.request_body  # the URL's identity is the one logged in


def test_opening_makes_no_request(monkeypatch: pytest.MonkeyPatch, fake: FakeTwentyFour) -> None:
    _env(monkeypatch, fake)

    with open_target("24so://"):
        pass

    assert fake.calls == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("24so://ci@example.com:hunter2@x", "hold no credentials"),
        ("24so://not-a-guid", "must be a GUID"),
        ("24so:no-slashes", "not a 24SevenOffice URL"),
    ],
)
def test_bad_urls_are_refused_without_echoing_secrets(
    fake: FakeTwentyFour, url: str, expected: str
) -> None:
    with pytest.raises(TargetError, match=expected) as caught:
        TwentyFourTarget.open(url, fake.env())

    assert "hunter2" not in str(caught.value)


def test_credentials_come_only_from_the_environment(fake: FakeTwentyFour) -> None:
    environ = {k: v for k, v in fake.env().items() if k != "CRMCONF_24SO_PASSWORD"}

    with pytest.raises(TargetError, match="CRMCONF_24SO_PASSWORD"):
        TwentyFourTarget.open("24so://", environ)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CRMCONF_24SO_TIMEOUT", "0"),
        ("CRMCONF_24SO_TIMEOUT", "soon"),
        ("CRMCONF_24SO_RETRIES", "-1"),
    ],
)
def test_bad_tuning_variables_are_named(fake: FakeTwentyFour, name: str, value: str) -> None:
    with pytest.raises(TargetError, match=name):
        TwentyFourTarget.open("24so://", {**fake.env(), name: value})


def test_capabilities_follow_the_api(target: TwentyFourTarget) -> None:
    capabilities = target.capabilities()
    changes = capabilities.changes()

    assert changes[CATEGORIES.name] == {Capability.CREATE, Capability.UPDATE}
    assert changes[INDUSTRIES.name] == {Capability.MOVE}
    assert changes[STATUS_TYPES.name] == {Capability.MOVE}
    others = set(KINDS_BY_NAME) - {CATEGORIES.name, INDUSTRIES.name, STATUS_TYPES.name}
    assert all(changes[name] == frozenset() for name in others)
    assert set(changes) == set(KINDS_BY_NAME)
    assert capabilities.features == {Feature.LIST_DELETED_CUSTOMERS}  # never restore


def test_kinds_without_any_api_are_declared_unreadable(target: TwentyFourTarget) -> None:
    unreadable = target.capabilities().unreadable()

    readable = {CATEGORIES.name, GROUPS.name, INDUSTRIES.name, STATUS_TYPES.name}
    assert unreadable.kinds == set(KINDS_BY_NAME) - readable
    assert unreadable.fields == {GROUPS.name: {"description"}}


@pytest.mark.parametrize(
    ("command", "missing"),
    [
        (("move-customers", "--industry", "Retail", "--to", "Bygg", "--yes"), "move customers"),
        (("history",), "keeps no history of its own"),
        (("rollback", "1", "--yes"), "keep a history crmconf can read"),
        (("customers", "restore", "1", "--yes"), "cannot restore customers here"),
        (("forecast",), "report its opportunities"),
    ],
)
def test_a_command_the_api_has_no_capability_for_names_it(
    fake: FakeTwentyFour, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...], missing: str
) -> None:
    from click.testing import CliRunner

    from crmconf.cli import main

    for name, value in fake.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CRMCONF_STATE", raising=False)

    result = CliRunner().invoke(main, [*command, "--target", "24so://"])

    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: 24so://"), result.stderr
    assert missing in result.stderr
    assert fake.write_calls() == []


# Reading


def test_categories_show_on_from_the_two_flags(
    fake: FakeTwentyFour, target: TwentyFourTarget
) -> None:
    fake.data.add_category("Hidden", show_company=False, show_contact=False)

    state = target.read([CATEGORIES])

    show_on = {item.name: item.fields["show_on"] for item in state.of(CATEGORIES)}
    assert show_on == {
        "VIP": "both",
        "Partner": "customer",
        "Newsletter": "contact",
        "Hidden": "customer",  # neither: read as the narrowest choice (README)
    }
    assert sorted(fake.operations()) == ["GetCategories", "Login"]
    assert state.users is None


def test_industries_and_statuses_count_their_customers_in_one_request(
    fake: FakeTwentyFour, target: TwentyFourTarget
) -> None:
    state = target.read([INDUSTRIES, STATUS_TYPES])

    industries = {item.name: item.usage for item in state.of(INDUSTRIES)}
    statuses = {item.name: item.usage for item in state.of(STATUS_TYPES)}
    companies = fake.data.companies.values()
    assert industries["Retail"] == Usage(customers=sum(c.industry_id == 2 for c in companies))
    assert statuses["Former customer"] == Usage()
    assert sum(u.customers for u in industries.values()) == len(companies)
    assert fake.count("GetCompanies") == 1
    request = next(c for c in fake.calls if c.operation == "GetCompanies").request_body
    for wanted in (b"Id", b"IndustryId", b"Status"):
        assert b">" + wanted + b"<" in request
    assert b">Name<" not in request


def test_groups_are_flattened_with_members_by_contact_id(
    fake: FakeTwentyFour, target: TwentyFourTarget
) -> None:
    fake.data.groups[1].members.append(FakeGroupMember(999, "Gone", "User"))

    state = target.read([GROUPS])

    groups = {item.name: dict(item.fields) for item in state.of(GROUPS)}
    assert groups == {
        "Sales": {"type": 1, "members": ["101"], "parent": None},
        "Sales Oslo": {"type": "standard", "members": ["102"], "parent": "Sales"},
        "Sales Bergen": {"type": "standard", "members": [], "parent": "Sales"},
        "Support": {"type": 2, "members": ["103", "999"], "parent": None},
    }
    # Members are checked against users by contact id; a current member always counts.
    assert state.users == {"101", "102", "103", "999"}


def test_unknown_group_type_numbers_are_carried_through(
    fake: FakeTwentyFour, target: TwentyFourTarget
) -> None:
    fake.data.groups = [FakeGroup(7, "Odd", type=42)]

    (item,) = target.read([GROUPS]).of(GROUPS)

    assert item.fields["type"] == 42


def test_an_unmanaged_or_unreadable_kind_reads_nothing(
    fake: FakeTwentyFour, target: TwentyFourTarget
) -> None:
    state = target.read([STAGES, KINDS_BY_NAME["features.restore_customers"]])
    nothing = target.read([])

    assert state.items == {} and nothing.items == {}
    assert fake.calls == []


def test_kinds_are_read_concurrently(fake: FakeTwentyFour, target: TwentyFourTarget) -> None:
    kinds = [CATEGORIES, GROUPS, INDUSTRIES, STATUS_TYPES, STAGES]
    # The fake holds every read until all six are in flight (at most 5 s), so no worker
    # can finish before the last read is handed out: on a busy machine a pool would
    # otherwise reuse an idle worker and one session would serve two reads.
    fake.hold_reads_until(6)
    target.read(kinds)  # logs each worker's client in (building a zeep client costs CPU)
    # One client, hence one session, per worker thread: no session serves two threads.
    reads = fake.read_calls()
    assert len({call.session_cookie for call in reads}) == fake.count("Login") == len(reads) == 6
    assert fake.most_in_flight >= 6
    fake.clear_injections()
    fake.reset_calls()
    fake.hold_reads_until(6)

    state = target.read(kinds)

    assert set(state.items) == {CATEGORIES.name, GROUPS.name, INDUSTRIES.name, STATUS_TYPES.name}
    assert fake.count() == 6 and fake.count("Login") == 0
    # All six were being answered at once (a target reading one kind after another would
    # keep the fake waiting for the timeout and never reach six): the read costs one
    # round trip of wall time (measured as wall time in benchmarks/, not here).
    assert fake.most_in_flight == 6


def test_a_failing_read_reports_the_error(fake: FakeTwentyFour, target: TwentyFourTarget) -> None:
    fake.inject_fault("Index was outside the bounds of the array.", operation="GetStatuses")

    with pytest.raises(TargetError, match="GetStatuses: the service returned a SOAP fault"):
        target.read([CATEGORIES, STATUS_TYPES, GROUPS])


def test_read_is_repeatable_on_one_target(fake: FakeTwentyFour, target: TwentyFourTarget) -> None:
    first = target.read(ALL_KINDS)
    second = target.read(ALL_KINDS)

    assert first == second
    assert fake.count("Login") <= 6  # sessions are kept for the target's life
    assert fake.write_calls() == []


# Export and plan, through the Python API


def test_export_then_plan_is_empty(
    fake: FakeTwentyFour, target: TwentyFourTarget, tmp_path: Any
) -> None:
    fake.data.groups[0].type = 42
    path = tmp_path / "exported.yaml"
    path.write_text(api.export(target), encoding="utf-8")

    result = api.plan(load(path), target)

    assert result.empty, result.changes
    assert result.warnings == ()
    assert fake.write_calls() == []


def test_group_types_and_members_may_be_written_as_numbers(
    fake: FakeTwentyFour, target: TwentyFourTarget, tmp_path: Any
) -> None:
    path = tmp_path / "groups.yaml"
    path.write_text(
        """\
crmconf: 1
groups:
  - name: Sales
    type: 1
    members: [101]
    children:
      - {name: Sales Oslo, type: standard, members: ["102"]}
      - {name: Sales Bergen, type: Standard}
  - {name: Support, type: 2, members: [103]}
""",
        encoding="utf-8",
    )

    assert api.plan(load(path), target).empty
