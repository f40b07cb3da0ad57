"""The library enforces every rule: a Python caller is held to what the CLI's users are.

And saved plans are commitments: `apply plan.json` plans again from what the file
records and applies only that plan, when it is the one saved.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

import crmconf
from crmconf.errors import AlteredPlanError, RefusedPlanError, StalePlanError, UnsafePlanError
from crmconf.planning import saved
from crmconf.targets.sandbox.admin import init_sandbox
from tests.conftest import SEED

Cli = Callable[..., Result]
WriteConfig = Callable[..., Path]

EIGHT = "crmconf: 1\nindustries: [A1, A2, A3, A4, A5, A6, A7, A8]\n"
ONE = "crmconf: 1\nindustries: [A1]\n"


def _industries(url: str) -> list[str]:
    with crmconf.open_target(url) as target:
        from crmconf.kinds import INDUSTRIES

        return sorted(item.name for item in target.read([INDUSTRIES]).of(INDUSTRIES))


@pytest.fixture
def eight(sandbox_url: str, write_config: WriteConfig) -> str:
    with crmconf.open_target(sandbox_url) as target:
        crmconf.apply(crmconf.plan(write_config(EIGHT, "eight.yaml"), target), target)
    return sandbox_url


def test_python_apply_refuses_the_mass_delete_with_the_clis_message(
    eight: str, write_config: WriteConfig, cli: Cli
) -> None:
    path = write_config(ONE)
    with crmconf.open_target(eight) as target:
        plan = crmconf.plan(path, target)
        assert not plan.applyable
        with pytest.raises(UnsafePlanError) as refused:
            crmconf.apply(plan, target)
    from_cli = cli("plan", path, "--target", eight)

    assert _industries(eight) == [f"A{n}" for n in range(1, 9)]
    assert "industries: 7 industries deleted (limit 3)" in str(refused.value)
    assert from_cli.exit_code == 1
    assert from_cli.stderr == f"error: {refused.value}\n"


def test_the_guard_reads_its_flags_as_keyword_arguments(
    eight: str, write_config: WriteConfig
) -> None:
    path = write_config(ONE)
    with crmconf.open_target(eight) as target:
        allowed = crmconf.plan(path, target, max_deletes=7, max_change_fraction=1)
        crmconf.apply(allowed, target)
    assert _industries(eight) == ["A1"]


def test_a_plan_claiming_to_be_applyable_is_still_refused(
    eight: str, write_config: WriteConfig
) -> None:
    with crmconf.open_target(eight) as target:
        plan = crmconf.plan(write_config(ONE), target)
        forged = replace(plan, refusals=())
        assert forged.applyable
        with pytest.raises(UnsafePlanError):
            crmconf.apply(forged, target)
    assert len(_industries(eight)) == 8


def test_a_plan_made_for_a_report_can_be_shown_never_applied(
    demo_url: str, write_config: WriteConfig
) -> None:
    path = write_config("crmconf: 1\nindustries: [Bygg]\n")
    with crmconf.open_target(demo_url) as target:
        with pytest.raises(RefusedPlanError, match="still uses"):
            crmconf.plan(path, target)
        report = crmconf.plan(path, target, refuse_orphans=False)
        assert [change.name for change in report.changes if change.action == "delete"]
        assert not report.applyable
        with pytest.raises(RefusedPlanError, match="never applied"):
            crmconf.apply(report, target)


def test_require_complete_is_a_rule_of_the_library(write_config: WriteConfig) -> None:
    from crmconf.testing import FakeTwentyFour

    config = crmconf.load(
        write_config("crmconf: 1\nsales:\n  types: [Nyförsäljning]\n")  # unreadable there
    )
    with FakeTwentyFour() as fake:
        from crmconf.targets.twentyfour.target import TwentyFourTarget

        with TwentyFourTarget.open("24so://", fake.env()) as target:
            plan = crmconf.plan(config, target, require_complete=True)
            with pytest.raises(RefusedPlanError, match="--require-complete"):
                crmconf.apply(plan, target)
        assert fake.write_calls() == []


# Saved plans


def _save(cli: Cli, config: Path, url: str, out: Path, *flags: str) -> dict[str, Any]:
    result = cli("plan", config, "--target", url, "-o", out, *flags)
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return document


def _rewrite(out: Path, document: dict[str, Any], *, checksum: bool) -> None:
    if checksum:
        document["saved"]["checksum"] = saved._checksum(document)
    out.write_text(json.dumps(document), encoding="utf-8")


@pytest.mark.parametrize(
    ("forge", "checksum", "error"),
    [
        (lambda d: d["saved"].update(target_fingerprint=""), False, "was altered since"),
        (lambda d: d["saved"].update(target_fingerprint=""), True, "stale plan"),
        (lambda d: d["changes"][0].update(after=None), False, "was altered since"),
        (lambda d: d["changes"][0].update(after=None), True, "was altered: its changes"),
        (lambda d: d["changes"][0].update(kind="no_such_kind"), True, "was altered: its changes"),
        (lambda d: d["changes"].pop(), True, "was altered: its changes"),
        (lambda d: d["saved"].update(policy=None), True, "not a saved plan"),
        (lambda d: d.update(saved=[]), False, "not a saved plan"),
        (lambda d: d["saved"]["configuration"].update(content_digest="0" * 64), True, "stale"),
    ],
    ids=[
        "fingerprint emptied",
        "fingerprint emptied, checksum redone",
        "after nulled",
        "after nulled, checksum redone",
        "unknown kind",
        "a change dropped",
        "policy removed",
        "saved not an object",
        "digest forged",
    ],
)
def test_a_forged_saved_plan_is_refused_before_any_write(
    cli: Cli,
    demo_url: str,
    tmp_path: Path,
    forge: Callable[[dict[str, Any]], None],
    checksum: bool,
    error: str,
) -> None:
    out = tmp_path / "plan.json"
    document = _save(cli, SEED, demo_url, out)
    forge(document)
    _rewrite(out, document, checksum=checksum)
    before = _industries(demo_url)

    result = cli("apply", out, "--yes")

    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: "), result.stderr
    assert error in result.stderr
    assert "Traceback" not in result.output
    assert _industries(demo_url) == before


def test_saved_ids_are_never_trusted(
    cli: Cli, demo_url: str, tmp_path: Path, write_config: WriteConfig
) -> None:
    # The old format applied the ids a file held: one forged id renamed Bygg instead of
    # Data/IT. Now no id is saved at all; the plan made again brings its own.
    config = write_config(
        "crmconf: 1\nindustries: [Bygg, Turism, {name: IT och telekom, renamed_from: [Data/IT]}]\n"
    )
    out = tmp_path / "plan.json"
    document = _save(cli, config, demo_url, out)
    assert "ids" not in document["saved"]

    applied = cli("apply", out, "--yes")

    assert applied.exit_code == 0, applied.output
    assert _industries(demo_url) == ["Bygg", "IT och telekom", "Turism"]


def test_a_saved_plan_records_its_resolved_target(
    cli: Cli, write_config: WriteConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CRMCONF_TARGET", raising=False)
    here, elsewhere = tmp_path / "here", tmp_path / "elsewhere"
    here.mkdir()
    elsewhere.mkdir()
    config = write_config(ONE)
    monkeypatch.chdir(here)
    init_sandbox("sqlite:///crm.db")
    out = tmp_path / "plan.json"
    document = _save(cli, config, "sqlite:///crm.db", out)
    assert document["saved"]["target"] == f"sqlite:///{here / 'crm.db'}"

    monkeypatch.chdir(elsewhere)
    applied = cli("apply", out, "--yes")

    assert applied.exit_code == 0, applied.output
    assert list(elsewhere.iterdir()) == []  # no sandbox made where the plan was not made for
    assert _industries(f"sqlite:///{here / 'crm.db'}") == ["A1"]
    other = cli("apply", out, "--yes", "--target", "sqlite:///crm.db")
    assert other.exit_code == 1
    assert "no sandbox at sqlite:///crm.db" in other.stderr


def test_a_file_added_to_the_configuration_directory_makes_the_plan_stale(
    cli: Cli, demo_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "crm"
    folder.mkdir()
    (folder / "industries.yaml").write_text(
        "crmconf: 1\nindustries: [Bygg, Turism, {name: IT och telekom, renamed_from: [Data/IT]}]\n"
    )
    out = tmp_path / "plan.json"
    _save(cli, folder, demo_url, out)
    (folder / "statuses.yaml").write_text("crmconf: 1\nstatus_types: [Aktiv]\n")

    result = cli("apply", out, "--yes")

    assert result.exit_code == 1
    assert "stale plan: the configuration changed" in result.stderr
    assert "Plan:" not in result.stdout  # no plan shown before the refusal


def test_a_group_member_removed_since_the_plan_is_refused_cleanly(
    cli: Cli, demo_url: str, tmp_path: Path, write_config: WriteConfig, backend: str
) -> None:
    config = write_config(
        "crmconf: 1\ngroups:\n  - {name: Nya, type: sales, members: [maria@example.com]}\n"
        "  - {name: Försäljning, type: sales, description: Säljare, members: [anna@example.com]}\n"
        "  - {name: Administration, type: standard, members: [lisa@example.com]}\n"
    )
    out = tmp_path / "plan.json"
    _save(cli, config, demo_url, out)
    _remove_user(demo_url, backend, "maria@example.com")

    result = cli("apply", out, "--yes")

    assert result.exit_code == 1, result.output
    assert "group 'Nya': no such user in the target: maria@example.com" in result.stderr
    assert "Traceback" not in result.output


def test_a_user_added_since_the_plan_makes_it_stale(
    demo_url: str, write_config: WriteConfig, backend: str
) -> None:
    config = write_config("crmconf: 1\nindustries: [Bygg, Turism, Data/IT, Handel]\n")
    with crmconf.open_target(demo_url) as target:
        plan = crmconf.plan(config, target)
        _add_user(demo_url, backend, "ny@example.com")
        with pytest.raises(StalePlanError, match="target changed"):
            crmconf.apply(plan, target)
    assert "Handel" not in _industries(demo_url)


def _add_user(url: str, backend: str, login: str) -> None:
    statement = "INSERT INTO users (login, name) VALUES (?, 'Ny')"
    if backend == "postgresql":
        from tests import postgres

        postgres.rows(url, statement, login)
        return
    with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
        connection.execute(statement, (login,))


def _remove_user(url: str, backend: str, login: str) -> None:
    statements = [
        "DELETE FROM opportunities WHERE owner_id = (SELECT id FROM users WHERE login = ?)",
        "DELETE FROM group_members WHERE user_id = (SELECT id FROM users WHERE login = ?)",
        "DELETE FROM users WHERE login = ?",
    ]
    if backend == "postgresql":
        from tests import postgres

        for statement in statements:
            postgres.rows(url, statement, login)
        return
    with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
        for statement in statements:
            connection.execute(statement, (login,))


def test_a_used_saved_plan_is_refused_without_showing_it_again(
    cli: Cli, demo_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "plan.json"
    _save(cli, SEED, demo_url, out)
    assert cli("apply", out, "--yes").exit_code == 0

    again = cli("apply", out, "--yes")

    assert again.exit_code == 1
    assert again.stdout == ""
    assert (
        again.stderr
        == "error: stale plan: the target changed since the plan was made; plan again\n"
    )


def test_a_saved_plan_from_python_is_the_same_commitment(demo_url: str, tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    with crmconf.open_target(demo_url) as target:
        plan = crmconf.plan(SEED, target)
        out.write_text(crmconf.api.dump_plan(plan), encoding="utf-8")
        again = crmconf.api.load_plan(out, target)
        assert [c.name for c in again.changes] == [c.name for c in plan.changes]
        crmconf.apply(again, target)
        with pytest.raises(StalePlanError):
            crmconf.api.load_plan(out, target)
    assert not os.path.exists(tmp_path / ".crmconf")


def test_a_damaged_saved_plan_file_is_a_clear_error(cli: Cli, tmp_path: Path) -> None:
    for name, data in {
        "empty.json": b"",
        "binary.json": b"\xff\xfe\x00",
        "deep.json": b"[" * 100_000,
        "list.json": b"[1, 2]",
    }.items():
        path = tmp_path / name
        path.write_bytes(data)
        result = cli("apply", path, "--yes")
        assert result.exit_code == 1, (name, result.output)
        assert "not a saved plan crmconf can apply" in result.stderr, (name, result.stderr)
    with pytest.raises(AlteredPlanError):
        saved.read(tmp_path / "list.json")
