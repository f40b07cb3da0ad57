"""A kind is one declaration: registering a new one at run time is all it takes.

The kind below is declared here and nowhere else — no schema file, no sandbox table,
no target code knows it — and it must still validate, plan, apply, export, plan empty
and roll back on the sandbox (SQLite and PostgreSQL), upgrade a sandbox made before it
existed (the one today's crmconf made, kept as a fixture), and appear on 24SevenOffice
as what it is there: a kind that API cannot read, checked by hand.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from crmconf import api
from crmconf.errors import TargetError
from crmconf.kinds import ALL_KINDS, registered
from crmconf.model.kind import Kind, Migration, NamedItem
from crmconf.model.names import Name
from crmconf.targets.sandbox.admin import upgrade_sandbox
from crmconf.targets.sandbox.storage import stored_kinds
from crmconf.targets.sandbox.target import SandboxTarget
from tests.conftest import ROOT

Cli = Callable[..., Result]
WriteConfig = Callable[..., Path]

FIXTURE = ROOT / "tests" / "fixtures" / "sandbox-schema-2.db"
"""A sandbox made by crmconf before Alembic (schema version 2): the demo company with
examples/seed.yaml applied."""


class ContactTitle(NamedItem):
    """A title a contact can have (Titel), e.g. VD."""

    name: Name


CONTACT_TITLES = Kind(
    name="contact_titles",
    singular="contact title",
    ui_path="Administration – Inställningar – CRM – Titlar",
    item_model=ContactTitle,
    migration=Migration("move_contacts_to"),
)

TITLES = """\
crmconf: 1
contact_titles: [VD, Ekonomichef, Säljare]
"""


@pytest.fixture
def contact_titles(request: pytest.FixtureRequest) -> Iterator[Kind]:
    if "sandbox_url" in request.fixturenames:  # made before the kind exists, as in real life
        request.getfixturevalue("sandbox_url")
    with registered(CONTACT_TITLES) as kind:
        yield kind
    stored_kinds()  # the sandbox's tables forget the kind again


def _titles(url: str) -> list[str]:
    with api.open_target(url) as target:
        state = target.read([CONTACT_TITLES])
    return sorted(item.name for item in state.of(CONTACT_TITLES))


def test_a_kind_registered_at_run_time_goes_through_every_command(
    contact_titles: Kind, sandbox_url: str, cli: Cli, write_config: WriteConfig, tmp_path: Path
) -> None:
    assert contact_titles in ALL_KINDS
    config = write_config(TITLES)
    upgraded = cli("sandbox", "upgrade", "--target", sandbox_url)
    assert upgraded.exit_code == 0, upgraded.output
    assert "added table contact_titles" in upgraded.output

    validated = cli("validate", config)
    assert validated.exit_code == 0, validated.output
    planned = cli("plan", config, "--target", sandbox_url, "--format", "json")
    assert planned.exit_code == 0, planned.output
    changes = json.loads(planned.stdout)["changes"]
    assert [(c["kind"], c["action"], c["key"]) for c in changes] == [
        ("contact_titles", "create", "VD"),
        ("contact_titles", "create", "Ekonomichef"),
        ("contact_titles", "create", "Säljare"),
    ]

    applied = cli("apply", config, "--target", sandbox_url, "--yes")
    assert applied.exit_code == 0, applied.output
    assert _titles(sandbox_url) == ["Ekonomichef", "Säljare", "VD"]

    exported = cli("export", "--target", sandbox_url, "-o", tmp_path / "export.yaml")
    assert exported.exit_code == 0, exported.output
    text = (tmp_path / "export.yaml").read_text(encoding="utf-8")
    assert "contact_titles:" in text
    again = cli("plan", tmp_path / "export.yaml", "--target", sandbox_url, "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes." in again.stdout

    entries = json.loads(cli("history", "--target", sandbox_url, "--format", "json").stdout)
    newest = entries["entries"][0]["id"]
    rolled = cli("rollback", str(newest), "--target", sandbox_url, "--yes")
    assert rolled.exit_code == 0, rolled.output
    assert _titles(sandbox_url) == []
    replanned = cli("plan", config, "--target", sandbox_url)
    assert "Plan: 3 to add, 0 to change, 0 to delete." in replanned.stdout


def test_a_schema_in_the_registry_includes_the_kind(contact_titles: Kind) -> None:
    from crmconf.config.schema import json_schema
    from crmconf.planning.document_schema import plan_json_schema

    assert "contact_titles" in json_schema()["properties"]
    kinds = plan_json_schema()["$defs"]["change"]["properties"]["kind"]["examples"]
    assert "contact_titles" in kinds


def test_a_sandbox_made_before_the_kind_says_to_upgrade_then_upgrades(
    contact_titles: Kind, sandbox_url: str, write_config: WriteConfig, cli: Cli
) -> None:
    config = write_config(TITLES)

    before = cli("plan", config, "--target", sandbox_url)
    assert before.exit_code == 1
    assert "run 'crmconf sandbox upgrade" in before.stderr
    assert "contact_titles" in before.stderr

    assert upgrade_sandbox(sandbox_url) == ["added table contact_titles"]
    assert upgrade_sandbox(sandbox_url) == []
    after = cli("plan", config, "--target", sandbox_url)
    assert after.exit_code == 0, after.output
    assert "Plan: 3 to add" in after.stdout


def _fixture_copy(tmp_path: Path) -> str:
    path = tmp_path / "old.db"
    shutil.copyfile(FIXTURE, path)
    return f"sqlite:///{path}"


@pytest.mark.sqlite_only(reason="the fixture is a SQLite file made by crmconf before Alembic")
def test_a_sandbox_of_schema_version_2_is_read_then_upgraded_with_its_data(
    backend: str, tmp_path: Path, cli: Cli
) -> None:
    url = _fixture_copy(tmp_path)
    seed = ROOT / "examples" / "seed.yaml"

    planned = cli("plan", seed, "--target", url, "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output  # read as it is: it matches the seed
    unchanged = FIXTURE.read_bytes() == (tmp_path / "old.db").read_bytes()
    assert unchanged, "plan wrote to an old sandbox"
    refused = cli("move-customers", "--industry", "Bygg", "--to", "IT och telekom",
                  "--target", url, "--yes")  # fmt: skip
    assert refused.exit_code == 1
    assert "run 'crmconf sandbox upgrade" in refused.stderr

    upgraded = cli("sandbox", "upgrade", "--target", url)
    assert upgraded.exit_code == 0, upgraded.output
    assert "recorded schema version 2 as revision 0002" in upgraded.output
    history = json.loads(cli("history", "--target", url, "--format", "json").stdout)
    assert [entry["command"] for entry in history["entries"]] == ["apply"]
    planned = cli("plan", seed, "--target", url, "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output
    moved = cli("move-customers", "--industry", "Bygg", "--to", "IT och telekom",
                "--target", url, "--yes")  # fmt: skip
    assert moved.exit_code == 0, moved.output


@pytest.mark.sqlite_only(reason="the fixture is a SQLite file made by crmconf before Alembic")
def test_the_old_sandbox_upgrades_to_hold_a_new_kind(
    backend: str, contact_titles: Kind, tmp_path: Path, write_config: WriteConfig
) -> None:
    url = _fixture_copy(tmp_path)
    with pytest.raises(TargetError, match="sandbox upgrade"):
        _titles(url)

    done = upgrade_sandbox(url)

    assert done == [
        "recorded schema version 2 as revision 0002",
        "revision 0002 → 0003",
        "added table contact_titles",
    ]
    config = api.load(write_config(TITLES))
    with SandboxTarget.open(url) as target:
        api.apply(api.plan(config, target), target)
    assert _titles(url) == ["Ekonomichef", "Säljare", "VD"]


def test_on_24sevenoffice_a_new_kind_is_checked_by_hand(
    contact_titles: Kind, write_config: WriteConfig
) -> None:
    from crmconf.targets.twentyfour.target import TwentyFourTarget
    from crmconf.testing import FakeTwentyFour

    config = api.load(write_config(TITLES))
    with FakeTwentyFour() as fake, TwentyFourTarget.open("24so://", fake.env()) as target:
        plan = api.plan(config, target)
        reads = [call.operation for call in fake.calls if call.kind == "read"]

    assert plan.empty
    (check,) = plan.checks
    assert check.message.startswith("contact_titles not compared: 24so:// cannot read")
    assert "VD" in check.message and "Säljare" in check.message
    assert reads == []  # nothing the API has was asked for a kind it does not have


def test_registering_twice_or_with_unknown_references_is_refused(contact_titles: Kind) -> None:
    from crmconf.kinds import register
    from crmconf.model.kind import Reference

    with pytest.raises(ValueError, match="registered already"):
        register(CONTACT_TITLES)
    dangling: dict[str, Any] = {"references": (Reference("title", "no_such_kind"),)}
    with pytest.raises(ValueError, match="not registered"):
        register(Kind(name="other", singular="x", ui_path="-", item_model=ContactTitle, **dangling))


def test_the_head_crmconf_reads_without_alembic_is_alembics() -> None:
    from crmconf.targets.sandbox import revisions

    assert revisions.alembic_head() == revisions.HEAD
