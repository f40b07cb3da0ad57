"""The sandbox CRM as a target: plans never write, applies are all or nothing, exports replan empty.

Every check reads the SQLite file itself (bytes, or every table through the
standard library's sqlite3), never crmconf's own reading code.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, event

from crmconf.api import apply, export, load, plan
from crmconf.errors import TargetError
from crmconf.model.names import identity
from crmconf.targets.sandbox.admin import init_sandbox
from crmconf.targets.sandbox.target import SandboxTarget
from tests.conftest import SEED

WriteConfig = Callable[..., Path]
Cli = Callable[..., Result]

WRITES = ("INSERT", "UPDATE", "DELETE")

CHANGES_EVERYTHING = """\
crmconf: 1
customer_info:
  show_as_tab: true
  contact_origins: [Webbformulär, Mässa, Tips]
  products: [Lön, Ekonomi]
  sources: [{name: Sökmotor, renamed_from: [Google]}]
categories:
  - {name: Partner, show_on: contact}
  - {name: Leverantör, show_on: both}
groups:
  - name: Ledning
    type: Standard
    children:
      - {name: Försäljning, type: Försäljning, members: [erik@example.com, maria@example.com]}
      - {name: Administration, type: standard, description: Kontor, members: [lisa@example.com]}
industries: [Bygg, {name: IT och telekom, renamed_from: [Data/IT]}, Handel]
status_types: [Aktiv, Ej bearbetad]
sales:
  rejection_reasons: [Pris, Tid]
  types: [Nyförsäljning, Merförsäljning]
  stages:
    - {title: Steg 0 Lead, probability: 5, status: Öppen}
    - {title: Steg 1 Telefonsamtal, probability: 15, status: open}
    - {title: Steg 3 Andra besök, probability: 65, status: open}
    - {title: Steg 2 Första besök, probability: 35, status: open}
    - {title: Steg 4 Uppföljningssamtal, probability: 100, status: Öppen - vunnen}
    - {title: Förlorad, probability: 0, status: Stängd – tappad, rejection_reason: tid}
features:
  restore_customers: true
"""
"""A configuration touching every kind of the demo: renames, moves, creates, deletes."""

MANY_CREATES = """\
crmconf: 1
customer_info:
  contact_origins: [Tips, Mässa, Annons, Webbformulär, Event]
categories:
  - {name: Partner, show_on: customer}
  - {name: Leverantör, show_on: both}
  - {name: Återförsäljare, show_on: both, protect: true}
  - {name: Konsult, show_on: contact}
  - {name: Myndighet, show_on: customer, protect: true}
groups:
  - name: Försäljning
    type: sales
    description: Säljare
    members: [anna@example.com]
    children:
      - name: Sälj Norr
        type: sales
        members: [erik@example.com, maria@example.com]
        children:
          - {name: Sälj Luleå, type: sales, members: [johan@example.com]}
          - {name: Sälj Umeå, type: sales}
      - name: Sälj Syd
        type: sales
        protect: true
        children:
          - {name: Sälj Malmö, type: sales, members: [erik@example.com, lisa@example.com]}
  - {name: Administration, type: standard, members: [lisa@example.com]}
  - {name: Ekonomi, type: standard, members: [maria@example.com]}
industries: [Bygg, {name: IT och telekom, renamed_from: [Data/IT]}, Turism, Handel, Vård, Skola]
sales:
  rejection_reasons: [Pris, Tid, Budget]
  stages:
    - {title: Steg 0 Lead, probability: 5, status: open}
    - {title: Steg 1 Telefonsamtal, probability: 15, status: open}
    - {title: Steg 2 Första besök, probability: 35, status: open}
    - {title: Steg 3 Andra besök, probability: 50, status: open}
    - {title: Steg 4 Uppföljningssamtal, probability: 100, status: open_won}
    - {title: Förlorad på pris, probability: 0, status: closed_lost, rejection_reason: Budget}
    - {title: Förlorad på tid, probability: 0, status: closed_lost, rejection_reason: Tid}
"""
"""Creates the demo lacks, applied a statement per kind (per tree level for groups):
new items between existing ones, three levels of groups with members, protected items,
stages naming new rejection reasons, and a rename amid the creates of its kind."""


def _file(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def _dump(url: str) -> str:
    """Every table's schema and rows, as SQL text, read without crmconf."""
    with sqlite3.connect(f"file:{_file(url)}?mode=ro", uri=True) as connection:
        return "\n".join(connection.iterdump())


def _snapshot(url: str) -> tuple[bytes, str]:
    return _file(url).read_bytes(), _dump(url)


@contextmanager
def _failing_write(engine: Engine | type[Engine], number: int) -> Iterator[list[str]]:
    """Make the number-th write statement fail; yields the writes seen."""
    writes: list[str] = []

    def fail(
        _connection: Any,
        _cursor: Any,
        statement: str,
        _parameters: Any,
        _context: Any,
        _many: bool,
    ) -> None:
        # The lock row is taken and given back in transactions of their own, around the
        # apply's (a lock left behind by a failed release is recovered by the next run);
        # the apply's own transaction is what must be all or nothing.
        if statement.lstrip().upper().startswith(WRITES) and "crmconf_lock" not in statement:
            writes.append(statement)
            if len(writes) == number:
                raise sqlite3.OperationalError(f"injected failure of write {number}")

    event.listen(engine, "before_cursor_execute", fail)
    try:
        yield writes
    finally:
        event.remove(engine, "before_cursor_execute", fail)


# Plans never write


@pytest.mark.sqlite_only(reason="compares the SQLite file's bytes and sqlite3 dump")
@pytest.mark.parametrize(
    "arguments",
    [(), ("--format", "json"), ("--detailed-exitcode",), ("--strict",)],
    ids=["text", "json", "detailed exit code", "strict"],
)
def test_plan_never_writes(cli: Cli, demo_url: str, arguments: tuple[str, ...]) -> None:
    before = _snapshot(demo_url)

    result = cli("plan", SEED, "--target", demo_url, *arguments)

    assert result.exit_code in (0, 2), result.output
    assert "Plan: 9 to add" in result.stdout or '"create": 9' in result.stdout
    assert _snapshot(demo_url) == before


@pytest.mark.sqlite_only(reason="compares the SQLite file's bytes and sqlite3 dump")
def test_refused_plan_and_export_and_validate_never_write(
    cli: Cli, write_config: WriteConfig, demo_url: str
) -> None:
    refused = write_config("crmconf: 1\nindustries: []\n")
    before = _snapshot(demo_url)

    results = [
        cli("plan", refused, "--target", demo_url),
        cli("apply", refused, "--target", demo_url, "--yes"),
        cli("export", "--target", demo_url),
        cli("validate", SEED),
    ]

    assert [result.exit_code for result in results] == [1, 1, 0, 0]
    assert _snapshot(demo_url) == before


# Applies are all or nothing


@pytest.mark.sqlite_only(reason="copies the SQLite file for every injected failure")
@pytest.mark.parametrize("config", [SEED, MANY_CREATES], ids=["seed", "many creates"])
def test_apply_is_all_or_nothing_whichever_write_fails(
    write_config: WriteConfig, demo_url: str, tmp_path: Path, config: Path | str
) -> None:
    path = config if isinstance(config, Path) else write_config(config)
    pristine = tmp_path / "pristine.db"
    shutil.copyfile(_file(demo_url), pristine)
    with SandboxTarget.open(demo_url) as target, _failing_write(target.engine, 0) as writes:
        apply(plan(load(path), target), target)
    assert len(writes) > 10

    for number in range(1, len(writes) + 1):
        url = f"sqlite:///{tmp_path / f'fail-{number}.db'}"
        shutil.copyfile(pristine, _file(url))
        before = _dump(url)
        with SandboxTarget.open(url) as target:
            result = plan(load(path), target)
            with (
                _failing_write(target.engine, number),
                pytest.raises(TargetError, match=f"injected failure of write {number}"),
            ):
                apply(result, target)
        assert _dump(url) == before, f"write {number} of {len(writes)} left a partial apply"


@pytest.mark.sqlite_only(reason="adds a failing trigger through sqlite3")
def test_a_failure_inside_one_statement_of_many_creates_changes_nothing(
    write_config: WriteConfig, demo_url: str
) -> None:
    # Konsult is the second of the three categories one statement inserts: the first is
    # in the table when the database refuses it.
    with sqlite3.connect(_file(demo_url)) as connection:
        connection.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON categories WHEN NEW.name = 'Konsult' "
            "BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END"
        )
    connection.close()
    before = _dump(demo_url)

    with SandboxTarget.open(demo_url) as target:
        result = plan(load(write_config(MANY_CREATES)), target)
        with pytest.raises(TargetError, match="refused by a trigger"):
            apply(result, target)

    assert _dump(demo_url) == before


@pytest.mark.sqlite_only(reason="compares sqlite3 dumps of the file")
def test_failed_apply_through_the_cli_changes_nothing(cli: Cli, demo_url: str) -> None:
    before = _dump(demo_url)

    with _failing_write(Engine, 5):
        result = cli("apply", SEED, "--target", demo_url, "--yes")

    assert result.exit_code == 1, result.output
    assert "rolled back" in result.stderr
    assert "injected failure of write 5" in result.stderr
    assert "Applied" not in result.output
    assert _dump(demo_url) == before
    assert cli("apply", SEED, "--target", demo_url, "--yes").exit_code == 0


# After apply, plan is empty


@pytest.mark.parametrize("config", [SEED, "everything"], ids=["seed", "every kind"])
def test_plan_after_apply_is_empty(
    write_config: WriteConfig, demo_target: SandboxTarget, config: Path | str
) -> None:
    path = config if isinstance(config, Path) else write_config(CHANGES_EVERYTHING)
    first = plan(load(path), demo_target)
    assert not first.empty

    apply(first, demo_target)

    assert plan(load(path), demo_target).changes == ()


def test_plan_after_apply_is_empty_on_an_empty_sandbox(
    write_config: WriteConfig, sandbox_url: str
) -> None:
    path = write_config(
        CHANGES_EVERYTHING.replace("erik@example.com, maria@example.com", "")
        .replace("lisa@example.com", "")
        .replace("renamed_from: [Data/IT]", "renamed_from: []")
    )
    with SandboxTarget.open(sandbox_url) as target:
        apply(plan(load(path), target), target)

        assert plan(load(path), target).changes == ()


# Export, then plan, is empty


def _export_replans_empty(url: str, tmp_path: Path) -> None:
    exported = tmp_path / "exported.yaml"
    with SandboxTarget.open(url) as target:
        exported.write_text(export(target), encoding="utf-8")
        result = plan(load(exported), target)
    assert result.changes == (), exported.read_text(encoding="utf-8")


def test_export_of_an_empty_sandbox_plans_empty(sandbox_url: str, tmp_path: Path) -> None:
    _export_replans_empty(sandbox_url, tmp_path)


def test_export_of_the_demo_plans_empty(demo_url: str, tmp_path: Path) -> None:
    _export_replans_empty(demo_url, tmp_path)


def test_export_of_protected_items_plans_empty(
    write_config: WriteConfig, demo_url: str, demo_target: SandboxTarget, tmp_path: Path
) -> None:
    """Export writes `protect: true`: starting from an export must not unprotect anything."""
    protected = write_config(
        "crmconf: 1\n"
        "industries: [{name: Bygg, protect: true}, Data/IT, Turism]\n"
        "customer_info:\n  contact_origins: [{name: Mässa, protect: true}, Webbformulär]\n"
        "groups:\n"
        "  - {name: Försäljning, type: sales, description: Säljare, members: [anna@example.com],\n"
        "     protect: true, children: [{name: Administration, type: standard,\n"
        "     members: [lisa@example.com], protect: true}]}\n"
    )
    apply(plan(load(protected), demo_target), demo_target)

    _export_replans_empty(demo_url, tmp_path)
    exported = load(tmp_path / "exported.yaml")
    assert {
        (kind, record.name)
        for kind, records in exported.sections.items()
        for record in records
        if record.protect
    } == {
        ("industries", "Bygg"),
        ("customer_info.contact_origins", "Mässa"),
        ("groups", "Försäljning"),
        ("groups", "Administration"),
    }


def test_export_keeps_each_long_name_on_one_line(demo_url: str, tmp_path: Path) -> None:
    """A YAML writer folds long plain text over lines, which the loader refuses for names."""
    names = ["Bygg", "Data/IT", "Turism"]
    names += [f"Bransch {number} med ett namn som är långt nog att synas" for number in range(8)]
    written = tmp_path / "long.yaml"
    written.write_text(json.dumps({"crmconf": 1, "industries": names}), encoding="utf-8")
    with SandboxTarget.open(demo_url) as target:
        apply(plan(load(written), target), target)

    _export_replans_empty(demo_url, tmp_path)


@pytest.mark.sqlite_only(reason="edits the CRM by hand through sqlite3")
def test_export_after_changes_plans_empty(
    write_config: WriteConfig, demo_url: str, demo_target: SandboxTarget, tmp_path: Path
) -> None:
    apply(plan(load(write_config(CHANGES_EVERYTHING)), demo_target), demo_target)
    with sqlite3.connect(_file(demo_url)) as connection:
        # Changes made in the CRM by hand: gaps and ties in positions, odd but valid names.
        connection.execute("UPDATE stages SET position = position * 10")
        connection.execute("UPDATE stages SET position = 20 WHERE title = 'Förlorad'")
        connection.execute(
            "INSERT INTO industries (name) VALUES ('No'), ('1.0'), ('0o17'), ('1e3'), ('Öl:  Bar')"
        )
        connection.execute("INSERT INTO status_types (name) VALUES ('~'), ('on'), ('- x')")
        connection.execute("UPDATE crm_groups SET description = 'yes' WHERE name = 'Ledning'")
    connection.close()

    _export_replans_empty(demo_url, tmp_path)


def test_export_through_the_cli_plans_empty(
    cli: Cli, write_config: WriteConfig, demo_url: str, tmp_path: Path
) -> None:
    assert (
        cli("apply", write_config(CHANGES_EVERYTHING), "--target", demo_url, "--yes").exit_code == 0
    )
    exported = tmp_path / "exported.yaml"

    written = cli("export", "--target", demo_url, "-o", exported)
    replanned = cli("plan", exported, "--target", demo_url, "--detailed-exitcode")

    assert written.exit_code == 0, written.output
    assert replanned.exit_code == 0, replanned.output
    assert "No changes." in replanned.stdout


@pytest.mark.sqlite_only(reason="edits the CRM by hand through sqlite3")
def test_export_of_a_name_with_surrounding_spaces_plans_empty(
    sandbox_url: str, tmp_path: Path
) -> None:
    init_sandbox(sandbox_url)
    with sqlite3.connect(_file(sandbox_url)) as connection:
        connection.execute("INSERT INTO industries (name) VALUES (' Bygg ')")
    connection.close()

    _export_replans_empty(sandbox_url, tmp_path)


_LETTERS = "abcåäöABCÅÄÖ019 -/&:#'\"!?%@,.~*"
_names = st.text(alphabet=_LETTERS, min_size=1, max_size=12).map(str.strip).filter(bool)


def _distinct(names: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(identity(name), name)
    return list(seen.values())


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    industries=st.lists(_names, max_size=5).map(_distinct),
    stages=st.lists(
        st.tuples(_names, st.integers(0, 100), st.sampled_from(["open", "open_won"])),
        max_size=4,
        unique_by=lambda stage: identity(stage[0]),
    ),
    products=st.lists(_names, max_size=4).map(_distinct),
    show_as_tab=st.booleans(),
)
def test_export_after_arbitrary_applies_plans_empty(
    industries: list[str],
    stages: list[tuple[str, int, str]],
    products: list[str],
    show_as_tab: bool,
) -> None:
    document = {
        "crmconf": 1,
        "customer_info": {"show_as_tab": show_as_tab, "products": products},
        "industries": industries,
        "sales": {
            "stages": [
                {"title": title, "probability": probability, "status": status}
                for title, probability, status in stages
            ]
        },
    }
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "config.yaml"
        config.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        url = init_sandbox(f"sqlite:///{Path(folder) / 'crm.db'}")
        with SandboxTarget.open(url) as target:
            apply(plan(load(config), target), target)
            assert plan(load(config), target).changes == ()
        _export_replans_empty(url, Path(folder))


# Creating the sandbox


@pytest.mark.sqlite_only(reason="compares sqlite3 dumps of the file")
def test_sandbox_init_demo_twice_without_reset_fails_clearly(cli: Cli, sandbox_url: str) -> None:
    first = cli("sandbox", "init", "--demo", "--target", sandbox_url)
    before = _dump(sandbox_url)

    second = cli("sandbox", "init", "--demo", "--target", sandbox_url)

    assert first.exit_code == 0, first.output
    assert second.exit_code == 1, second.output
    assert "already holds data" in second.stderr
    assert "--reset" in second.stderr
    assert "Traceback" not in second.output
    assert _dump(sandbox_url) == before


def _foreign_database(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total TEXT)")
        connection.execute("INSERT INTO invoices VALUES (1, '4711.00')")
    connection.close()


@pytest.mark.parametrize("reset", [False, True], ids=["init", "init --reset"])
@pytest.mark.parametrize(
    ("write", "why"),
    [
        (lambda path: path.write_text("my notes\n", encoding="utf-8"), "not an SQLite database"),
        (_foreign_database, "an SQLite database without crmconf's tables"),
    ],
    ids=["a text file", "another program's database"],
)
def test_sandbox_init_never_replaces_a_file_that_is_not_a_sandbox(
    cli: Cli, tmp_path: Path, write: Callable[[Path], None], why: str, reset: bool
) -> None:
    # --reset replaced whatever the path named: a typo in --target destroyed a file of
    # notes or another program's database. Without it, init said "no sandbox …; create
    # one with 'crmconf sandbox init'", the command just run.
    path = tmp_path / "crm.db"
    write(path)
    before = path.read_bytes()

    result = cli("sandbox", "init", "--target", f"sqlite:///{path}", *(["--reset"] * reset))

    assert result.exit_code == 1, result.output
    assert f"sqlite:///{path} is not a crmconf sandbox ({why})" in result.stderr
    assert "create one with" not in result.stderr
    assert path.read_bytes() == before


def test_sandbox_init_takes_an_empty_file_as_no_sandbox_yet(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "crm.db"
    path.touch()

    result = cli("sandbox", "init", "--target", f"sqlite:///{path}")

    assert result.exit_code == 0, result.output
    with SandboxTarget.open(f"sqlite:///{path}") as target:
        assert target.schema.current


@pytest.mark.sqlite_only(reason="reads the file through sqlite3")
def test_sandbox_init_demo_with_reset_starts_anew(
    cli: Cli, write_config: WriteConfig, demo_url: str
) -> None:
    cli("apply", write_config(CHANGES_EVERYTHING), "--target", demo_url, "--yes")

    again = cli("sandbox", "init", "--demo", "--reset", "--target", demo_url)

    assert again.exit_code == 0, again.output
    with sqlite3.connect(_file(demo_url)) as connection:
        assert connection.execute("SELECT count(*) FROM users").fetchone() == (5,)
        assert connection.execute("SELECT name FROM industries ORDER BY id").fetchall() == [
            ("Bygg",),
            ("Data/IT",),
            ("Turism",),
        ]
    connection.close()
