"""Sequences of operations nobody wrote a test for: a hypothesis state machine on a real
sandbox, SQLite and PostgreSQL (issue 12, "find the next ones yourself").

Each run starts from a copy of the demo company and takes random steps through the
library (load, plan, apply, export, rollback, move-customers), the CLI (a few rules),
and changes made to the CRM directly with SQL, as another tool or a person would make
them. After every step the invariants below hold:

- no customer, contact, opportunity, membership or protection refers to a missing row;
- no two items of a kind share an identity (crmconf.model.names.identity);
- export, then plan of that export, is empty, and neither writes a row;
- a refused step (any crmconf error, never another exception) changed no row;
- an apply or a rollback whose k-th write fails lands whole or not at all;
- a rollback of the newest entry, with nothing changed by hand since, succeeds and
  restores every table to the state before that entry — as does any rollback after
  which every entry since its own is undone.

`make test` runs a derandomized slice; `make fuzz` (HYPOTHESIS_PROFILE=fuzz) runs 10,000+
steps. Each failure found became a named regression test (tests/test_rollback_safety.py).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Connection, create_engine, delete, event, func, insert, select, update
from sqlalchemy.engine import Engine

from crmconf import api
from crmconf.cli import main
from crmconf.errors import CrmconfError
from crmconf.kinds import ALL_KINDS, INDUSTRIES, KINDS_BY_NAME, STATUS_TYPES
from crmconf.model.kind import Kind
from crmconf.model.names import identity
from crmconf.model.state import DuplicateItemsError
from crmconf.targets.postgres import with_driver
from crmconf.targets.sandbox import schema
from crmconf.targets.sandbox.admin import init_sandbox
from crmconf.targets.sandbox.mapping import tables
from crmconf.targets.sandbox.target import SandboxTarget
from tests import postgres
from tests.strategies import FUZZ, PROFILE, configurations, names, read_export, to_yaml

Rows = dict[str, list[tuple[Any, ...]]]

STEPS, RUNS, AT_LEAST = (60, 120, 5_000) if PROFILE == FUZZ else (32, 5, 100)
"""Most steps per run, runs per backend, and the steps per backend the test insists on
(a run may end early): `make test` takes over 200 steps over both backends, `make fuzz`
over 10,000."""

BOOKKEEPING = {schema.history.name, schema.lock.name, schema.applied_names.name}
"""crmconf's own tables, not the CRM's: the applied names are not journaled, a rollback
writes them anew for the state it leaves (crmconf.targets.sandbox.names)."""
MOVABLE = (INDUSTRIES, STATUS_TYPES)
"""The kinds whose customers move-customers moves."""


# Reading the sandbox as rows (crmconf's table definitions, none of its code)


def _rows(connection: Connection, everything: bool = False) -> Rows:
    tables = sorted(schema.metadata.tables.values(), key=lambda table: table.name)
    return {
        table.name: [
            tuple(row)
            for row in connection.execute(select(table).order_by(*table.primary_key.columns))
        ]
        for table in tables
        if everything or table.name not in BOOKKEEPING
    }


def _dangling(connection: Connection) -> list[str]:
    """Rows pointing at rows that are not there, foreign key by foreign key."""
    found = []
    for table in schema.metadata.tables.values():
        for constraint in table.foreign_key_constraints:
            referred = constraint.referred_table.alias("referred")  # may be the table itself
            there = (
                select(referred.c[constraint.elements[0].column.name])
                .where(*(referred.c[e.column.name] == e.parent for e in constraint.elements))
                .exists()
            )
            query = (
                select(func.count())
                .select_from(table)
                .where(*(e.parent.is_not(None) for e in constraint.elements), ~there)
            )
            count = connection.scalar(query)
            if count:
                found.append(
                    f"{count} rows of {table.name} point at missing {constraint.referred_table.name}"
                )
    protected = schema.protected
    for kind_name, item_id in connection.execute(select(protected.c.kind, protected.c.item_id)):
        table = tables()[kind_name].table
        if connection.scalar(select(func.count()).where(table.c.id == item_id)) == 0:
            found.append(f"protection of {kind_name} {item_id} outlives the item")
    return found


def _duplicates(connection: Connection) -> list[str]:
    found = []
    for kind_name, spec in tables().items():
        query = select(spec.table.c[spec.name_column])
        if spec.list_name:
            query = query.where(spec.table.c.list == spec.list_name)
        seen: dict[str, str] = {}
        for name in connection.scalars(query):
            if identity(name) in seen:
                found.append(f"{kind_name}: {seen[identity(name)]!r} and {name!r}")
            seen[identity(name)] = name
    return found


# Where each run's sandbox comes from


class Sandboxes:
    """Fresh demo sandboxes for one backend, each a copy of one loaded once."""

    def __init__(self, backend: str, request: pytest.FixtureRequest, folder: Path) -> None:
        self.backend = backend
        self.folder = folder
        if backend == "postgresql":
            self.databases: postgres.Databases = request.getfixturevalue("postgres_databases")
        else:
            self.template = folder / "demo.db"
            init_sandbox(f"sqlite:///{self.template}", demo=True)

    def fresh(self, stack: ExitStack) -> str:
        if self.backend == "postgresql":
            url = stack.enter_context(self.databases.fresh())
            self.databases.demo_copy(url)
            return url
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=self.folder)))
        shutil.copyfile(self.template, folder / "crm.db")
        return f"sqlite:///{folder / 'crm.db'}"


class CrmMachine(RuleBasedStateMachine):
    sandboxes: Sandboxes
    steps = 0

    def __init__(self) -> None:
        super().__init__()
        self.stack = ExitStack()
        self.url = self.sandboxes.fresh(self.stack)
        self.folder = Path(self.stack.enter_context(tempfile.TemporaryDirectory()))
        self.target = SandboxTarget.open(self.url)
        self.stack.callback(self.target.close)
        # A connection of its own for what is done "by hand": it commits every change.
        self.direct: Engine = create_engine(with_driver_url(self.url))
        self.stack.callback(self.direct.dispose)
        self.before: dict[int, Rows] = {}
        """Per history entry: every data table just before it."""
        self.by_hand_after = 0
        """The newest history entry when the CRM was last changed by hand."""
        self.deleted: list[tuple[Kind, str]] = []
        """Items deleted by applies: a respelt one coming back is an identity trap."""
        self.held: Any = None
        """A plan made earlier, applied by a later step."""
        self.files = 0
        self.refusal = ""
        """Why the last refused step was refused."""

    def teardown(self) -> None:
        self.stack.close()

    # Helpers

    def rows(self, everything: bool = False) -> Rows:
        with self.direct.connect() as connection:
            return _rows(connection, everything)

    def newest(self) -> int:
        return max((entry.id for entry in self.target.history()), default=0)

    def write(self, document: Any) -> Path:
        self.files += 1
        path = self.folder / f"config-{self.files}.yaml"
        path.write_text(to_yaml(document), encoding="utf-8")
        return path

    def exported(self) -> dict[str, Any]:
        document: dict[str, Any] = read_export(api.export(self.target))
        return document

    def refused_unchanged(self, step: Callable[[], Any], before: Rows) -> Any:
        """Run a step; a crmconf error must leave every row as it was."""
        try:
            return step()
        except CrmconfError as error:
            self.refusal = str(error)
            assert self.rows() == before, f"a refused step changed the CRM: {error}"
            return None

    def apply_document(self, document: Any) -> int | None:
        """Plan and apply a configuration; the new history entry, or None when refused."""
        path = self.write(document)
        before = self.rows()
        plan = self.refused_unchanged(lambda: api.plan(path, self.target), before)
        if plan is None or plan.empty:
            return None
        newest = self.newest()
        if self.refused_unchanged(lambda: api.apply(plan, self.target) or True, before) is None:
            return None
        entry = self.newest()
        assert entry > newest
        self.before[entry] = before
        assert api.plan(path, self.target).empty, "apply did not converge"
        for change in plan.changes:
            if change.action.value == "delete":
                self.deleted.append((KINDS_BY_NAME[change.kind], change.name))
        return entry

    def by_hand(self, *statements: Any) -> None:
        with self.direct.begin() as connection:
            for statement in statements:
                connection.execute(statement)
        self.by_hand_after = self.newest()

    def names_of(self, kind: Kind) -> list[str]:
        return [item.name for item in self.target.read([kind]).of(kind)]

    # Rules: configurations

    @initialize()
    def start(self) -> None:
        assert not _dangling_now(self)

    @rule(data=st.data())
    def apply_generated_configuration(self, data: st.DataObject) -> None:
        """Add, respell, rename (renamed_from), drop, reorder and re-parent items."""
        document = data.draw(configurations(self.target.read(ALL_KINDS)), label="configuration")
        self.apply_document(document)

    @rule(data=st.data())
    def apply_a_migration(self, data: st.DataObject) -> None:
        """Delete an item with a `removed:` entry moving (or detaching) what uses it."""
        kinds = [kind for kind in ALL_KINDS if kind.migration is not None]
        kind = data.draw(st.sampled_from(kinds), label="kind")
        items = self.target.read([kind]).of(kind)
        if len(items) < 2:
            return
        doomed = data.draw(st.sampled_from(items), label="deleted")
        others = [item.name for item in items if item.key != doomed.key]
        assert kind.migration is not None
        entry: dict[str, Any] = {kind.key_field: doomed.name}
        if kind.migration.clear_field and data.draw(st.booleans(), label="detach"):
            entry[kind.migration.clear_field] = True
        else:
            entry[kind.migration.move_field] = data.draw(st.sampled_from(others), label="to")
        document = self.exported()
        node = document
        for part in kind.section[:-1]:
            node = node[part]
        node[kind.section[-1]] = [
            item for item in node[kind.section[-1]] if _entry_key(kind, item) != doomed.key
        ]
        removed: dict[str, Any] = document.setdefault("removed", {})
        for part in kind.section[:-1]:
            removed = removed.setdefault(part, {})
        removed[kind.section[-1]] = [entry]
        self.apply_document(document)

    @rule(data=st.data())
    def protect_then_try_to_delete(self, data: st.DataObject) -> None:
        """`protect: true` refuses every delete; then protect: false lifts it again."""
        kind = data.draw(st.sampled_from([INDUSTRIES, STATUS_TYPES]), label="kind")
        items = self.names_of(kind)
        if not items:
            return
        name = data.draw(st.sampled_from(items), label="protected")

        def named(item: Any) -> str:  # an export writes a protected item as a mapping
            return str(item["name"] if isinstance(item, dict) else item)

        def section(protect: bool | None) -> Any:
            document = self.exported()
            document[kind.section[-1]] = [
                {"name": named(item), "protect": protect} if named(item) == name else item
                for item in document[kind.section[-1]]
                if protect is not None or named(item) != name
            ]
            return document

        if self.apply_document(section(True)) is None:
            return
        before = self.rows(everything=True)
        doomed = section(None)
        doomed["removed"] = {kind.section[-1]: [name]}
        with pytest.raises(CrmconfError, match="protect"):
            api.plan(self.write(doomed), self.target)
        assert self.rows(everything=True) == before
        self.apply_document(section(False))

    @rule(data=st.data())
    def bring_back_a_deleted_item_respelt(self, data: st.DataObject) -> None:
        """An item deleted earlier comes back in other case: one identity, a new row."""
        gone = [
            (kind, name)
            for kind, name in self.deleted
            if kind in (INDUSTRIES, STATUS_TYPES) and name.swapcase() != name
        ]
        if not gone:
            return
        kind, name = data.draw(st.sampled_from(gone), label="back")
        document = self.exported()
        present = {identity(item) for item in document[kind.section[-1]]}
        if identity(name) in present:
            return
        document[kind.section[-1]].append(name.swapcase())
        self.apply_document(document)

    @rule()
    def hold_a_plan(self) -> None:
        path = self.write(self.exported_with_a_new_industry())
        self.held = api.plan(path, self.target)

    def exported_with_a_new_industry(self) -> dict[str, Any]:
        document = self.exported()
        present = {identity(name) for name in document["industries"]}
        number = len(present)
        while identity(f"Ny bransch {number}") in present:
            number += 1
        document["industries"].append(f"Ny bransch {number}")
        return document

    @precondition(lambda self: self.held is not None)
    @rule()
    def apply_the_held_plan(self) -> None:
        """Applied as planned, or refused as stale: never applied to another state."""
        plan, self.held = self.held, None
        before = self.rows()
        newest = self.newest()
        if self.refused_unchanged(lambda: api.apply(plan, self.target) or True, before):
            self.before[self.newest()] = before
            assert self.newest() > newest

    @rule(data=st.data())
    def apply_failing_at_a_write(self, data: st.DataObject) -> None:
        """The k-th write fails: the apply lands whole or not at all."""
        document = data.draw(configurations(self.target.read(ALL_KINDS)), label="configuration")
        path = self.write(document)
        before = self.rows()
        plan = self.refused_unchanged(lambda: api.plan(path, self.target), before)
        if plan is None or plan.empty:
            return
        newest = self.newest()
        failing = data.draw(st.integers(1, 30), label="failing write")
        with self.failing_write(failing), contextlib.suppress(CrmconfError):
            api.apply(plan, self.target)
        if self.newest() > newest:  # the failure came after the commit, or not at all
            self.before[self.newest()] = before
            assert api.plan(path, self.target).empty, "a failed apply landed in part"
        else:
            assert self.rows() == before, "a failed apply left rows changed"

    @rule(data=st.data())
    def roll_back_failing_at_a_write(self, data: st.DataObject) -> None:
        live = [entry.id for entry in self.target.history() if entry.rolled_back_by is None]
        if not live:
            return
        chosen = data.draw(st.sampled_from(live), label="entry")
        before = self.rows()
        newest = self.newest()
        failing = data.draw(st.integers(1, 30), label="failing write")
        with self.failing_write(failing), contextlib.suppress(CrmconfError):
            self.target.rollback(chosen, cascade=True)
        if self.newest() == newest:
            assert self.rows() == before, "a failed rollback left rows changed"

    @contextlib.contextmanager
    def failing_write(self, failing: int) -> Iterator[None]:
        """Make the `failing`-th INSERT, UPDATE or DELETE of crmconf's engine fail."""
        seen = 0

        def inject(
            _connection: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any
        ) -> tuple[str, Any]:
            nonlocal seen
            if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
                seen += 1
                if seen == failing:
                    return "SELECT * FROM crmconf_injected_failure", parameters
            return statement, parameters

        engine = self.target.engine
        event.listen(engine, "before_cursor_execute", inject, retval=True)
        try:
            yield
        finally:
            event.remove(engine, "before_cursor_execute", inject)

    # Rules: moves and rollbacks

    @rule(data=st.data())
    def move_customers(self, data: st.DataObject) -> None:
        kind = data.draw(st.sampled_from(MOVABLE), label="kind")
        items = self.names_of(kind)
        source = data.draw(st.sampled_from(items), label="from")
        destination = data.draw(st.sampled_from([*items, source.upper()]), label="to")
        before = self.rows()
        newest = self.newest()
        moved = self.refused_unchanged(
            lambda: self.target.move_customers(kind, source, destination), before
        )
        if moved is None:
            return
        count, entry = moved
        if entry is None:
            assert self.rows() == before and self.newest() == newest
            assert count == 0
        else:
            assert count > 0 and identity(source) != identity(destination)
            self.before[entry] = before

    @rule(data=st.data())
    def roll_back(self, data: st.DataObject) -> None:
        """Roll back any entry (rolled back, a rollback, or unknown ones included)."""
        entries = self.target.history()
        if not entries:
            return
        ids = [entry.id for entry in entries]
        chosen = data.draw(st.sampled_from([*ids, max(ids) + 1]), label="entry")
        cascade = data.draw(st.booleans(), label="cascade")
        skip = data.draw(st.booleans(), label="skip changed")
        self.check_rollback(chosen, cascade, skip)

    @rule()
    def roll_back_the_newest(self) -> None:
        live = [
            entry.id
            for entry in self.target.history()
            if entry.rolled_back_by is None and entry.command != "rollback"
        ]
        if live:
            self.check_rollback(max(live), cascade=False, skip=False)

    def check_rollback(self, chosen: int, cascade: bool, skip: bool) -> None:
        entries = self.target.history()
        live = {
            entry.id
            for entry in entries
            if entry.rolled_back_by is None and entry.command != "rollback"
        }
        before = self.rows()
        by_hand_since = self.by_hand_after >= chosen
        done = self.refused_unchanged(
            lambda: self.target.rollback(chosen, cascade=cascade, skip_changed=skip), before
        )
        newest_live = bool(live) and chosen == max(live)
        if done is None:
            assert not (newest_live and not by_hand_since), (
                f"rollback of the newest entry {chosen}, nothing changed by hand since, refused: "
                f"{self.refusal}"
            )
            return
        assert chosen in live
        undone = {step.entry for step in done}
        left = [conflict for step in done for conflict in step.left]
        if not by_hand_since:
            assert not left, f"rows changed since, with nothing changed since: {left}"
        # Exact when everything since the entry is undone now or was undone before: no
        # entry after it is live, no rollback after it undid an earlier entry.
        since_undone = undone >= {e for e in live if e >= chosen} and all(
            entry.rollback_of > chosen
            for entry in entries
            if entry.id > chosen and entry.rollback_of is not None
        )
        if not left and not by_hand_since and since_undone:
            assert self.rows() == self.before[chosen], f"rollback of {chosen} is not exact"

    # Rules: the CRM changed by hand

    @rule(data=st.data())
    def change_a_customer_by_hand(self, data: st.DataObject) -> None:
        kind = data.draw(st.sampled_from(MOVABLE), label="kind")
        spec = tables()[kind.name]
        with self.direct.connect() as connection:
            ids = list(connection.scalars(select(spec.table.c.id)))
        customer = data.draw(st.integers(1, 40), label="customer")
        value = data.draw(st.sampled_from(ids), label="to") if ids else None
        column = "industry_id" if kind is INDUSTRIES else "status_type_id"
        customers = schema.customers
        self.by_hand(update(customers).where(customers.c.id == customer).values({column: value}))

    @rule(data=st.data())
    def rename_an_item_by_hand(self, data: st.DataObject) -> None:
        kind = data.draw(st.sampled_from(MOVABLE), label="kind")
        existing = self.names_of(kind)
        if not existing:
            return
        old = data.draw(st.sampled_from(existing), label="item")
        new = data.draw(names, label="new name")
        if any(identity(new) == identity(name) for name in existing if name != old):
            return
        table = tables()[kind.name].table
        self.by_hand(update(table).where(table.c.name == old).values(name=new))

    @rule(data=st.data())
    def add_an_identity_duplicate_by_hand(self, data: st.DataObject) -> None:
        """A target holding two items of one identity is reported, by plan and export."""
        kind = data.draw(st.sampled_from(MOVABLE), label="kind")
        existing = self.names_of(kind)
        if not existing:
            return
        name = data.draw(st.sampled_from(existing), label="item")
        twin = name.swapcase() if name.swapcase() != name else f" {name}  "
        if twin in existing:
            return
        table = tables()[kind.name].table
        self.by_hand(insert(table).values(name=twin))
        before = self.rows(everything=True)
        config = self.write({"crmconf": 1, kind.section[-1]: existing})
        with pytest.raises(DuplicateItemsError, match=kind.name):
            api.plan(config, self.target)
        with pytest.raises(DuplicateItemsError, match=kind.name):
            api.export(self.target)
        assert self.rows(everything=True) == before
        self.by_hand(delete(table).where(table.c.name == twin))

    @rule(data=st.data())
    def add_a_group_member_by_hand(self, data: st.DataObject) -> None:
        with self.direct.connect() as connection:
            groups = list(connection.scalars(select(schema.crm_groups.c.id)))
            users = list(connection.scalars(select(schema.users.c.id)))
            members = set(connection.execute(select(schema.group_members)).all())
        if not groups:
            return
        pair = (data.draw(st.sampled_from(groups)), data.draw(st.sampled_from(users)))
        if pair not in members:
            self.by_hand(insert(schema.group_members).values(group_id=pair[0], user_id=pair[1]))

    # Rules: the CLI

    @rule(data=st.data())
    def cli_rollback(self, data: st.DataObject) -> None:
        entries = self.target.history()
        if not entries:
            return
        chosen = data.draw(st.sampled_from([entry.id for entry in entries]), label="entry")
        flags = data.draw(st.sampled_from([[], ["--cascade"], ["--skip-changed"]]), label="flag")
        before = self.rows()
        result = self.cli("rollback", str(chosen), "--yes", *flags)
        if result.exit_code == 1:
            assert self.rows() == before

    @rule(data=st.data())
    def cli_move_customers(self, data: st.DataObject) -> None:
        items = self.names_of(INDUSTRIES)
        source = data.draw(st.sampled_from(items), label="from")
        destination = data.draw(st.sampled_from(items), label="to")
        before = self.rows()
        newest = self.newest()
        result = self.cli("move-customers", "--industry", source, "--to", destination, "--yes")
        if self.newest() > newest:
            self.before[self.newest()] = before
        elif result.exit_code == 0:
            assert self.rows() == before

    @rule()
    def cli_saved_plan_applied_later(self) -> None:
        config = self.write(self.exported_with_a_new_industry())
        saved = self.folder / f"plan-{self.files}.json"
        self.cli("plan", str(config), "-o", str(saved))
        before = self.rows()
        newest = self.newest()
        result = self.cli("apply", str(saved), "--yes")
        if self.newest() > newest:
            assert result.exit_code == 0
            self.before[self.newest()] = before
        else:
            assert self.rows() == before

    @rule()
    def cli_history(self) -> None:
        result = self.cli("history")
        assert result.exit_code == 0
        assert len(result.output.splitlines()) == max(len(self.target.history()), 1)

    def cli(self, *arguments: str) -> Any:
        result = CliRunner().invoke(main, [*arguments, "--target", self.url])
        assert result.exit_code in (0, 1), result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            f"{arguments}: {result.exception!r}"
        )
        assert "Traceback" not in result.output
        return result

    # Invariants

    @invariant()
    def count_the_step(self) -> None:
        type(self).steps += 1

    @invariant()
    def nothing_refers_to_a_missing_row(self) -> None:
        assert not _dangling_now(self)

    @invariant()
    def one_item_per_identity(self) -> None:
        with self.direct.connect() as connection:
            assert not _duplicates(connection)

    @invariant()
    def export_plans_empty_and_neither_writes(self) -> None:
        before = self.rows(everything=True)
        path = self.write(self.exported())
        plan = api.plan(path, self.target)
        assert plan.empty, [f"{change.kind} {change.name}" for change in plan.changes]
        assert self.rows(everything=True) == before, "export or plan wrote"


def _dangling_now(machine: CrmMachine) -> list[str]:
    with machine.direct.connect() as connection:
        return _dangling(connection)


def with_driver_url(url: str) -> Any:
    from sqlalchemy.engine import make_url

    return with_driver(make_url(url))


@pytest.fixture
def sandboxes(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Sandboxes]:
    yield Sandboxes(backend, request, tmp_path)


def test_random_sequences_of_operations_keep_every_promise(sandboxes: Sandboxes) -> None:
    machine = type(f"CrmMachineOn{sandboxes.backend.title()}", (CrmMachine,), {})
    machine.sandboxes = sandboxes
    run_state_machine_as_test(
        machine,
        settings=settings(
            settings.get_profile(PROFILE), max_examples=RUNS, stateful_step_count=STEPS
        ),
    )
    assert machine.steps >= AT_LEAST, f"only {machine.steps} steps on {sandboxes.backend}"


def _entry_key(kind: Kind, entry: Any) -> str:
    """The identity of an item as a configuration writes it: a name, or a mapping."""
    return identity(entry if isinstance(entry, str) else entry[kind.key_field])
