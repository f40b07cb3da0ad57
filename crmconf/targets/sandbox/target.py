"""The embedded sandbox CRM: a real CRM data model in SQLite (or PostgreSQL) via SQLAlchemy Core.

Reads take one snapshot; an apply runs in one transaction, so it lands whole or not
at all.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Connection, Engine, Table, create_engine, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from crmconf.errors import TargetError
from crmconf.kinds import ALL_KINDS, INDUSTRIES, KINDS_BY_NAME, STATUS_TYPES, generation
from crmconf.model.collector import paused
from crmconf.model.kind import Kind
from crmconf.model.names import identity
from crmconf.model.state import ExistingItem, State, Usage
from crmconf.pipeline.forecast import Pipeline
from crmconf.planning.changes import Action, Change, Plan
from crmconf.planning.document import plan_document, summary_line
from crmconf.planning.safety import refuse_if_stale
from crmconf.targets.base import Target
from crmconf.targets.capabilities import Capabilities
from crmconf.targets.customers import DeletedCustomer, Restored
from crmconf.targets.postgres import with_driver
from crmconf.targets.sandbox import DEFAULT_TARGET, history, revisions, schema
from crmconf.targets.sandbox import names as applied
from crmconf.targets.sandbox.customers import read_deleted, restore_deleted
from crmconf.targets.sandbox.history import RolledBack
from crmconf.targets.sandbox.journal import CHUNK, Journal
from crmconf.targets.sandbox.lock import held
from crmconf.targets.sandbox.mapping import KindTable, UsedBy, switch_rows, tables
from crmconf.targets.sandbox.pipeline import read_pipeline
from crmconf.targets.urls import malformed_url

_CAPABILITIES = Capabilities.everything()
"""The sandbox owns its data: it reads and changes every kind, and has every feature."""


class SandboxTarget(Target):
    """A CRM whose data lives in a database crmconf owns the schema of."""

    def __init__(self, engine: Engine, url: str, resolved_url: str | None = None) -> None:
        self.engine = engine
        self.url = url
        self._resolved_url = resolved_url or url
        # Reads of several statements see one snapshot: PostgreSQL's default isolation
        # would let an apply committing in between tear them.
        self.reader = (
            engine.execution_options(isolation_level="REPEATABLE READ")
            if engine.dialect.name == "postgresql"
            else engine
        )
        self.schema = revisions.SchemaStatus(exists=True)

    @classmethod
    def open(cls, url: str) -> SandboxTarget:
        """Open the sandbox at a SQLAlchemy URL. Never creates or changes one: that is
        `crmconf sandbox init` and `crmconf sandbox upgrade` (crmconf.targets.sandbox.admin)."""
        target = cls.connect_to(url)
        try:
            with target.engine.connect() as connection:
                target.schema = revisions.status(connection)
        except SQLAlchemyError as error:
            target.close()
            reason = _reason(error)
            raise TargetError(f"cannot open the sandbox at {target.url}: {reason}") from None
        if not target.schema.exists:
            target.close()
            raise TargetError(_no_sandbox(target.url))
        if not target.schema.known:
            target.close()
            raise TargetError(
                f"{target.url} has sandbox schema version {target.schema.version}, which this "
                "crmconf does not know: upgrade crmconf, or start a new sandbox with "
                "'crmconf sandbox init --reset'"
            )
        return target

    @classmethod
    def connect_to(cls, url: str) -> SandboxTarget:
        """The target at a URL without looking at its schema (for `sandbox init`); a SQLite
        file that is not there is refused, never created."""
        engine, safe_url, resolved = _engine(url)
        database = make_url(resolved).database
        if engine.dialect.name == "sqlite" and database and not Path(database).exists():
            engine.dispose()
            raise TargetError(_no_sandbox(safe_url))
        return cls(engine, safe_url, resolved)

    def close(self) -> None:
        self.engine.dispose()

    @property
    def resolved_url(self) -> str:
        return self._resolved_url

    def capabilities(self) -> Capabilities:
        return _CAPABILITIES

    # Reading

    def read(self, kinds: Iterable[Kind]) -> State:
        kinds = list(kinds)
        self._refuse_if_missing(kinds)
        try:
            with self.reader.connect() as connection:
                return _read_state(connection, kinds, self.schema.revision != "0001")
        except SQLAlchemyError as error:
            raise TargetError(f"cannot read {self.url}: {_reason(error)}") from None

    # Writing

    def apply(self, plan: Plan) -> None:
        # The rows, the undo log and the history entry are tens of thousands of objects
        # for a large plan, none in a cycle: the cyclic collector would only walk them.
        with paused(), self._writing("apply") as connection:
            _refuse_if_stale(connection, plan)
            writer = _Writer(connection)
            writer.apply(plan)
            history.record(
                connection,
                writer.journal,
                command="apply",
                actor=self.actor,
                summary=summary_line(plan),
                changes=plan_document(plan)["changes"],
                config_digest=plan.config_digest,
            )
            managed = [KINDS_BY_NAME[k] for k in plan.existing_counts if k in KINDS_BY_NAME]
            renamed: dict[str, set[int]] = {}
            for change in plan.changes:
                if change.action is Action.UPDATE and "name" in change.changed:
                    renamed.setdefault(change.kind, set()).add(int(change.id or 0))
            applied.record(connection, managed, renamed)

    def applied_names(self, kinds: Iterable[Kind]) -> Mapping[str, Mapping[str, str]]:
        """Per kind, the name crmconf last applied to each item id; a sandbox from before
        revision 0003 kept none."""
        if self.schema.revision in ("0001", "0002"):
            return {}
        try:
            with self.reader.connect() as connection:
                return applied.read(connection, kinds)
        except SQLAlchemyError as error:
            raise TargetError(f"cannot read {self.url}: {_reason(error)}") from None

    def _refuse_if_missing(self, kinds: Iterable[Kind]) -> None:
        """An older schema is read as it is, unless a kind asked for has no table there."""
        if not self.schema.missing:
            return
        stored = tables()
        wanted = {stored[kind.name].table.name for kind in kinds if kind.name in stored}
        lacking = [name for name in self.schema.missing if name.split(".")[0] in wanted]
        if lacking:
            raise TargetError(
                f"{self.url} predates what this crmconf stores ({', '.join(lacking)} missing): "
                f"run 'crmconf sandbox upgrade --target {self.url}'"
            )

    @contextmanager
    def _writing(self, command: str) -> Iterator[Connection]:
        """The lock, then one transaction: all or nothing, one writer at a time."""
        if not self.schema.current:
            raise TargetError(
                f"{self.url} has an older sandbox schema than this crmconf's: nothing was "
                f"changed; run 'crmconf sandbox upgrade --target {self.url}' first"
            )
        with held(self.engine, holder=self.actor, command=command, timeout=self.lock_timeout):
            try:
                with self.engine.begin() as connection:
                    _take_write_lock(connection)
                    yield connection
            except SQLAlchemyError as error:
                raise TargetError(
                    f"{command} failed and was rolled back, {self.url} is unchanged: "
                    f"{_reason(error)}"
                ) from None

    def history(self) -> list[history.HistoryEntry]:
        """Applies, moves and rollbacks recorded in this sandbox, newest first."""
        try:
            with self.reader.connect() as connection:
                return history.entries(connection)
        except SQLAlchemyError as error:
            raise TargetError(f"cannot read the history of {self.url}: {_reason(error)}") from None

    def rollback(
        self, entry_id: int, cascade: bool = False, skip_changed: bool = False
    ) -> list[RolledBack]:
        """Undo a recorded entry exactly, or refuse; see `history.rollback`."""
        with self._writing("rollback") as connection:
            undone = history.rollback(
                connection, entry_id, actor=self.actor, cascade=cascade, skip_changed=skip_changed
            )
            applied.record(connection, ALL_KINDS)
            return undone

    def count_customers(self, kind: Kind, name: str) -> int:
        """Customers whose industry or status type is `name` (deleted ones included)."""
        column = _CUSTOMER_COLUMNS[kind.name]
        try:
            with self.engine.connect() as connection:
                item = _item_id(connection, kind, name)
                return int(connection.scalar(select(func.count()).where(column == item)) or 0)
        except SQLAlchemyError as error:
            raise TargetError(f"cannot read {self.url}: {_reason(error)}") from None

    def move_customers(self, kind: Kind, source: str, destination: str) -> tuple[int, int | None]:
        """Move every customer of one industry (or status type) to another, journaled.

        Returns how many moved and the history entry that can roll the move back; a move
        that moves nothing (no customers, or an item onto itself) records no entry.
        """
        column = _CUSTOMER_COLUMNS[kind.name]
        with self._writing("move-customers") as connection:
            old = _item_id(connection, kind, source)
            new = _item_id(connection, kind, destination)
            if old == new:
                return 0, None
            journal = Journal(connection)
            moved = journal.update(schema.customers, column == old, {column.name: new})
            if not moved:
                return 0, None
            entry = history.record(
                connection,
                journal,
                command="move-customers",
                actor=self.actor,
                summary=f"moved {moved} customers from {kind.singular} {source!r} to "
                f"{destination!r}",
                changes=[
                    {"kind": kind.name, "from": source, "to": destination, "customers": moved}
                ],
            )
            return moved, entry

    def connect(self) -> Connection:
        """A connection for callers that add data (the demo) or inspect it (tests)."""
        return self.engine.connect()

    # Opportunities and deleted customers (forecast, plan impact, Återställa kunder)

    def pipeline(self) -> Pipeline:
        """Every opportunity summed per stage and owner. Never writes."""
        try:
            with self.reader.connect() as connection:
                return read_pipeline(connection)
        except SQLAlchemyError as error:
            raise TargetError(f"cannot read {self.url}: {_reason(error)}") from None

    def deleted_customers(self, ids: Iterable[int] | None = None) -> tuple[DeletedCustomer, ...]:
        """The deleted customers (with `ids`: exactly those, else RestoreError). Never writes."""
        try:
            with self.reader.connect() as connection:
                return read_deleted(connection, ids)
        except SQLAlchemyError as error:
            raise TargetError(f"cannot read {self.url}: {_reason(error)}") from None

    def restore_customers(self, ids: Iterable[int]) -> Restored:
        """Restore deleted customers in one transaction, all or none, recorded in the history."""
        with self._writing("restore-customers") as connection:
            return restore_deleted(connection, ids, actor=self.actor)


_CUSTOMER_COLUMNS = {
    INDUSTRIES.name: schema.customers.c.industry_id,
    STATUS_TYPES.name: schema.customers.c.status_type_id,
}
"""The kinds whose customers `move-customers` moves (the product's "Flytta kunder")."""


def _item_id(connection: Connection, kind: Kind, name: str) -> int:
    spec = tables()[kind.name]
    rows = connection.execute(select(spec.table.c.id, spec.table.c[spec.name_column]))
    for item_id, item_name in rows:
        if identity(item_name) == identity(name):
            return int(item_id)
    raise TargetError(f"no {kind.singular} named {name!r} in this CRM")


def _read_state(connection: Connection, kinds: Iterable[Kind], protection: bool = True) -> State:
    """The state of some kinds; `protection` False for a sandbox from before protection and
    history were stored (schema revision 0001): nothing in it is protected or recorded."""
    protected: dict[str, set[int]] = defaultdict(set)
    query = select(schema.protected.c.kind, schema.protected.c.item_id)
    for kind_name, item_id in connection.execute(query) if protection else ():
        protected[kind_name].add(item_id)
    items = {kind.name: _read_kind(connection, kind, protected[kind.name]) for kind in kinds}
    users = frozenset(connection.scalars(select(schema.users.c.login)))
    newest = connection.scalar(select(func.max(schema.history.c.id))) if protection else None
    return State(items, users, revision=int(newest or 0) if protection else None)


def _take_write_lock(connection: Connection) -> None:
    """Start writing at once, so no other writer slips in between the check and the apply."""
    table = schema.meta
    connection.execute(
        table.update().where(table.c.key == "schema_version").values(value=table.c.value)
    )


def _refuse_if_stale(connection: Connection, plan: Plan) -> None:
    kinds = [KINDS_BY_NAME[name] for name in plan.kinds_read if name in KINDS_BY_NAME]
    refuse_if_stale(plan, _read_state(connection, kinds))


def _engine(url: str) -> tuple[Engine, str, str]:
    """An engine for a sandbox URL, its printable form, and that form made absolute."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise TargetError(malformed_url(url)) from None
    safe_url = parsed.render_as_string(hide_password=True)
    resolved = safe_url
    if parsed.get_backend_name() == "sqlite" and (
        parsed.database in (None, "", ":memory:") or parsed.query
    ):
        # An in-memory database vanishes with the command; URL options (uri=true, mode=)
        # would make the path mean something other than a file.
        raise TargetError(f"{safe_url}: a sandbox is a file: write sqlite:///PATH, without options")
    if parsed.get_backend_name() == "sqlite":
        absolute = parsed.set(database=os.path.abspath(str(parsed.database)))
        resolved = absolute.render_as_string(hide_password=True)
    try:
        engine = create_engine(with_driver(parsed))
    except ArgumentError as error:  # includes an unknown dialect or driver
        raise TargetError(f"cannot open {safe_url}: {error}") from None
    except ImportError as error:
        raise TargetError(
            f"cannot open {safe_url}: its database driver is not installed ({error.name})"
        ) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine, safe_url, resolved


def _no_sandbox(url: str) -> str:
    option = "" if url == DEFAULT_TARGET else f" --target {url}"
    return f"no sandbox at {url}; create one with 'crmconf sandbox init{option}'"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 5000")
    cursor.close()


def _reason(error: SQLAlchemyError) -> str:
    original = error.orig if isinstance(error, DBAPIError) else error
    return str(original).splitlines()[0]


def _read_kind(
    connection: Connection, kind: Kind, protected_ids: set[int]
) -> tuple[ExistingItem, ...]:
    switches = switch_rows()
    if kind.name in switches:
        enabled = connection.scalar(
            select(schema.switches.c.enabled).where(schema.switches.c.name == switches[kind.name])
        )
        name = kind.section[-1]
        return (ExistingItem(name, name, {"enabled": bool(enabled)}),)
    spec = tables()[kind.name]
    table = spec.table
    # Rows as tuples, columns in a known order (a mapping per row costs more than the
    # read), made into fields in passes: only some kinds need more than a dict.
    plain = tuple(spec.columns)
    linked = tuple(spec.references)
    query = select(
        table.c.id,
        table.c[spec.name_column],
        *(table.c[spec.columns[field]] for field in plain),
        *(table.c[spec.references[field]] for field in linked),
    )
    if spec.list_name:
        query = query.where(table.c.list == spec.list_name)
    if spec.position:
        query = query.order_by(table.c.position, table.c.id)
    rows = connection.execute(query).all()
    named = (*plain, *linked)
    fields = [dict(zip(named, values, strict=True)) for _id, _name, *values in rows]
    for field, names in _reference_names(connection, kind, rows).items():
        for item in fields:
            value = item[field]
            item[field] = None if value is None else names.get(value)
    for field in spec.numeric_text:
        for item in fields:
            item[field] = _numeric_text(item[field])
    if spec.members is not None and kind.users_field is not None:
        members = _members(connection, spec.members)
        for row, item in zip(rows, fields, strict=True):
            item[kind.users_field] = sorted(members.get(row[0], ()))
    usage = _usage(connection, spec)
    unused = Usage()
    return tuple(
        [
            ExistingItem(row[0], row[1], item, usage.get(row[0], unused), row[0] in protected_ids)
            for row, item in zip(rows, fields, strict=True)
        ]
    )


def _numeric_text(value: Any) -> Any:
    # E.g. a group type the vendor left undocumented: a whole number, kept in a text column.
    digits = isinstance(value, str) and value.isascii() and value.isdigit()
    return int(value) if digits else value


def _reference_names(
    connection: Connection, kind: Kind, rows: Sequence[Sequence[Any]]
) -> dict[str, dict[int, str]]:
    """Per reference field, id → name of the items it can name.

    A kind naming its own items (a group's parent) takes them from its `rows` (id, name,
    …), the whole table; other kinds are read.
    """
    names: dict[str, dict[int, str]] = {}
    for reference in kind.references:
        other = tables()[reference.kind]
        if reference.kind == kind.name and not other.list_name:
            names[reference.field] = {row[0]: row[1] for row in rows}
            continue
        column = other.table.c[other.name_column]
        found = connection.execute(select(other.table.c.id, column))
        names[reference.field] = {row[0]: row[1] for row in found}
    return names


def _usage(connection: Connection, spec: KindTable) -> dict[int, Usage]:
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for used_by in spec.used_by:
        query = (
            select(used_by.column, func.count())
            .where(used_by.column.is_not(None))
            .group_by(used_by.column)
        )
        for item_id, count in connection.execute(query):
            counts[item_id][used_by.counts_as] = counts[item_id].get(used_by.counts_as, 0) + count
    return {item_id: Usage(**fields) for item_id, fields in counts.items()}


def _members(connection: Connection, links: Table) -> dict[int, list[str]]:
    """Item id → the logins of its users, from the kind's link table (owner id, user id)."""
    owner, user = _link_columns(links)
    query = select(owner, schema.users.c.login).join(schema.users, schema.users.c.id == user)
    members: dict[int, list[str]] = defaultdict(list)
    for item_id, login in connection.execute(query):
        members[item_id].append(login)
    return members


def _link_columns(links: Table) -> tuple[Column[Any], Column[Any]]:
    """The owner's and the user's column of a users link table."""
    user = links.c.user_id
    (owner,) = [column for column in links.columns if column is not user]
    return owner, user


@dataclasses.dataclass
class _Creates:
    """Consecutive creates of one kind, inserted together by one statement.

    None of them names another (a child group waits for the level holding its parent),
    and all write the same columns.
    """

    kind: str
    columns: frozenset[str]
    rows: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    keys: list[str] = dataclasses.field(default_factory=list)
    """The items' identities, in the order of `rows`."""
    named: set[str] = dataclasses.field(default_factory=set)
    """The same identities, to tell whether a reference names an item still queued."""
    members: list[list[str]] = dataclasses.field(default_factory=list)
    """For groups: each one's member logins, in the order of `rows`."""
    protected: list[int] = dataclasses.field(default_factory=list)
    """Indexes into `rows` of the items created with `protect: true`."""


def _field_columns(kind_name: str) -> dict[str, tuple[str, str | None]]:
    """Per field of a kind: (its column, the kind a reference field names, else None)."""
    return _field_columns_of(generation(), kind_name)


@functools.cache
def _field_columns_of(_generation: int, kind_name: str) -> dict[str, tuple[str, str | None]]:
    # Asked for on every change an apply writes: built once per kind and registry.
    spec = tables()[kind_name]
    return {
        "name": (spec.name_column, None),
        **{field: (column, None) for field, column in spec.columns.items()},
        **{
            reference.field: (spec.references[reference.field], reference.kind)
            for reference in KINDS_BY_NAME[kind_name].references
        },
    }


class _Writer:
    """Carries out a plan's changes on one connection inside the caller's transaction.

    Creates are queued while the plan creates more of the same kind, then inserted by
    one statement (a tree: one per level); any other change first inserts the queue, so
    the writes keep the plan's order.
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.journal = Journal(connection)
        self.ids: dict[str, dict[str, int]] = {}
        self.queued: _Creates | None = None

    def apply(self, plan: Plan) -> None:
        switches = switch_rows()
        for change in plan.automatic:
            if change.action is Action.CREATE and change.kind not in switches:
                self._create(change)
                continue
            self._insert_queued()
            if change.kind in switches:
                self._switch(change)
            elif change.action is Action.UPDATE:
                self._update(change)
            else:
                self._delete(change)
        self._insert_queued()
        for kind_name, order in plan.final_order.items():
            self._reorder(kind_name, order)

    def _cache(self, kind_name: str) -> dict[str, int]:
        """Identity → id of a kind's rows, loaded once and kept current while applying."""
        if kind_name not in self.ids:
            spec = tables()[kind_name]
            query = select(spec.table.c.id, spec.table.c[spec.name_column])
            if spec.list_name:
                query = query.where(spec.table.c.list == spec.list_name)
            rows = self.connection.execute(query)
            self.ids[kind_name] = {identity(name): row_id for row_id, name in rows}
        return self.ids[kind_name]

    def _id_of(self, kind_name: str, name: str) -> int:
        key = identity(name)
        queued = self.queued
        if queued is not None and queued.kind == kind_name and key in queued.named:
            self._insert_queued()  # the parent of a group of the next tree level
        return self._cache(kind_name)[key]

    def _values(self, change: Change, fields: Iterable[str]) -> dict[str, Any]:
        columns = _field_columns(change.kind)
        as_text = tables()[change.kind].numeric_text
        after = change.after or {}
        values: dict[str, Any] = {}
        for field in fields:
            found = columns.get(field)
            if found is None:
                continue
            column, referenced = found
            value = after[field]
            if referenced is not None and value is not None:
                value = self._id_of(referenced, value)
            elif field in as_text and value is not None:
                value = str(value)
            values[column] = value
        return values

    def _create(self, change: Change) -> None:
        """Queue the create with the others of its kind (see `_insert_queued`)."""
        spec = tables()[change.kind]
        after = change.after
        assert after is not None
        values = self._values(change, after)
        if spec.list_name:
            values["list"] = spec.list_name
        if spec.position:
            values["position"] = after.get("position", 0)
        batch = self.queued
        if batch is None or batch.kind != change.kind or batch.columns != values.keys():
            self._insert_queued()
            batch = self.queued = _Creates(change.kind, frozenset(values))
        key = identity(after["name"])
        if after.get("protect"):
            batch.protected.append(len(batch.rows))
        batch.rows.append(values)
        batch.keys.append(key)
        batch.named.add(key)
        users_field = KINDS_BY_NAME[change.kind].users_field
        if spec.members is not None and users_field is not None:
            batch.members.append(after[users_field])

    def _insert_queued(self) -> None:
        """Insert the queued creates, then their members and protections: a statement each."""
        batch, self.queued = self.queued, None
        if batch is None:
            return
        spec = tables()[batch.kind]
        new_ids = self.journal.insert_many(spec.table, batch.rows)
        cache = self.ids.get(batch.kind)  # else loaded when first needed, new rows included
        if cache is not None:
            cache.update(zip(batch.keys, new_ids, strict=True))
        if batch.members and spec.members is not None:
            owner, user = _link_columns(spec.members)
            user_ids = _user_ids(self.connection, {login for m in batch.members for login in m})
            members = [
                {owner.name: item_id, user.name: user_ids[login]}
                for item_id, logins in zip(new_ids, batch.members, strict=True)
                for login in logins
            ]
            self.journal.insert_many(spec.members, members)
        protected = [{"kind": batch.kind, "item_id": new_ids[index]} for index in batch.protected]
        self.journal.insert_many(schema.protected, protected)

    def _update(self, change: Change) -> None:
        spec = tables()[change.kind]
        assert change.after is not None and isinstance(change.id, int)
        values = self._values(change, change.changed)
        if values:
            self.journal.update(spec.table, spec.table.c.id == change.id, values)
        if "name" in change.changed and change.before is not None:
            cache = self._cache(change.kind)
            cache.pop(identity(change.before["name"]), None)
            cache[identity(change.name)] = change.id
        users_field = KINDS_BY_NAME[change.kind].users_field
        if spec.members is not None and users_field in change.changed:
            self._set_members(spec.members, change.id, change.after[users_field])
        if "protect" in change.changed:
            self._unprotect(change.kind, change.id)
            if change.after["protect"]:
                self.journal.insert(schema.protected, {"kind": change.kind, "item_id": change.id})

    def _unprotect(self, kind_name: str, item_id: int) -> None:
        table = schema.protected
        self.journal.delete(table, (table.c.kind == kind_name) & (table.c.item_id == item_id))

    def _delete(self, change: Change) -> None:
        spec = tables()[change.kind]
        assert isinstance(change.id, int)
        if change.migration is not None:
            destination = change.migration.get("move_to")
            target_id = None if destination is None else self._id_of(change.kind, destination)
            for used_by in spec.used_by:
                _migrate(self.journal, used_by, change.id, target_id)
        self._unprotect(change.kind, change.id)
        self.journal.delete(spec.table, spec.table.c.id == change.id)
        self._cache(change.kind).pop(identity(change.name), None)

    def _switch(self, change: Change) -> None:
        assert change.after is not None
        row = switch_rows()[change.kind]
        table = schema.switches
        self.journal.delete(table, table.c.name == row)
        self.journal.insert(table, {"name": row, "enabled": change.after["enabled"]})

    def _set_members(self, links: Table, item_id: int, logins: list[str]) -> None:
        owner, user = _link_columns(links)
        self.journal.delete(links, owner == item_id)
        user_ids = _user_ids(self.connection, logins)
        for login in logins:
            self.journal.insert(links, {owner.name: item_id, user.name: user_ids[login]})

    def _reorder(self, kind_name: str, order: tuple[str, ...]) -> None:
        """Number the kind's items 1, 2, … in `order`, writing only positions that change."""
        spec = tables()[kind_name]
        table = spec.table
        positions = {self._id_of(kind_name, name): at for at, name in enumerate(order, start=1)}
        where = table.c.list == spec.list_name if spec.list_name else None
        self.journal.update_many(table, "position", positions, where)


def _migrate(journal: Journal, used_by: UsedBy, old: int, new: int | None) -> None:
    """Point every record using `old` at `new` (or at nothing), as the migration declares."""
    column = used_by.column
    table = column.table
    assert isinstance(table, Table)
    if used_by.owner is None:
        journal.update(table, column == old, {column.name: new})
        return
    if new is not None:
        # Link the holders of `old` to `new` unless they hold it already, then drop `old`.
        holders_of_new = select(used_by.owner).where(column == new)
        carried = select(used_by.owner).where(column == old, used_by.owner.not_in(holders_of_new))
        for holder in journal.connection.scalars(carried).all():
            journal.insert(table, {used_by.owner.name: holder, column.name: new})
    journal.delete(table, column == old)


def _user_ids(connection: Connection, logins: Iterable[str]) -> Mapping[str, int]:
    wanted = list(logins)
    users = schema.users
    found: dict[str, int] = {}
    for start in range(0, len(wanted), CHUNK):
        query = select(users.c.login, users.c.id).where(
            users.c.login.in_(wanted[start : start + CHUNK])
        )
        found.update((login, user_id) for login, user_id in connection.execute(query))
    return found


def sandbox_exists(url: str) -> bool:
    """Whether a sqlite sandbox file is there (so `sandbox init` can refuse to clobber it)."""
    parsed = make_url(url)
    return bool(parsed.database) and os.path.exists(str(parsed.database))
