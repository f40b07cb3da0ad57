"""The schema of a sandbox on disk: which revision it is at, and upgrading it.

Two things evolve the schema, both with Alembic, the SQLAlchemy project's own tool:

- recorded revisions (`migrations/versions/`), one per change crmconf's own code makes
  to its tables, applied in order by `alembic upgrade`;
- the settings tables of the kinds (storage.py): a kind registered later, or a field
  added to a kind, is found by Alembic's comparison of the declared tables with the
  database (`compare_metadata`), and only what it adds — a table, a nullable column — is
  created. Nothing is ever dropped or retyped by a comparison; that needs a revision.

Only `crmconf sandbox init` and `crmconf sandbox upgrade` change a schema, each in one
transaction (on SQLite too: see `transactional_engine`). Reads work on an older schema
where the tables they need are there; writes need the current one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Connection, Engine, Table, event, inspect, select, text

from crmconf.targets.sandbox import schema
from crmconf.targets.sandbox.storage import stored_kinds

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

HEAD = "0003"
"""The newest recorded revision, known without importing Alembic (a fifth of a second):
reading a sandbox needs only this; tests/test_adding_a_kind.py checks it is Alembic's head."""
_SCRIPTS = "crmconf.targets.sandbox:migrations"
_VERSION_KEY = "schema_version"
_DECLARED_KEY = "declared_tables"


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", _SCRIPTS)
    return config


@cache
def _script_directory() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config())


def head() -> str:
    """The newest recorded revision."""
    return HEAD


def alembic_head() -> str | None:
    """The head Alembic finds among the revision files (HEAD must be it)."""
    return _script_directory().get_current_head()


@dataclass(frozen=True)
class SchemaStatus:
    """Where a sandbox's schema stands against this crmconf."""

    exists: bool
    """Whether the database holds a sandbox at all."""
    revision: str | None = None
    """Its recorded revision (a sandbox from before Alembic: the one its version matches)."""
    version: str | None = None
    """What `crmconf_meta` says, for a message about a version crmconf does not know."""
    missing: tuple[str, ...] = field(default=())
    """Declared tables and columns it lacks ("table" or "table.column")."""

    @property
    def known(self) -> bool:
        return self.revision is not None

    @property
    def current(self) -> bool:
        """At this crmconf's newest revision, with every declared table and column, and its
        revisions kept by Alembic (a sandbox from before it is upgraded once to say so)."""
        return (
            self.exists
            and self.version == str(schema.SCHEMA_VERSION)
            and self.revision == head()
            and not self.missing
        )


def declared_digest() -> str:
    """A digest of the settings tables the registry declares: names and columns."""
    parts = []
    for table in _declared_tables():
        columns = ",".join(sorted(column.name for column in table.columns))
        parts.append(f"{table.name}({columns})")
    return hashlib.sha256(";".join(sorted(parts)).encode()).hexdigest()


def status(connection: Connection) -> SchemaStatus:
    """Read where the schema stands; never writes. Cheap when it is current."""
    if not connection.dialect.has_table(connection, schema.meta.name):
        return SchemaStatus(exists=False)
    meta = dict(connection.execute(select(schema.meta.c.key, schema.meta.c.value)).all())
    version = meta.get(_VERSION_KEY)
    revision = _recorded_revision(connection, version)
    if revision is not None and revision == head() and meta.get(_DECLARED_KEY) == declared_digest():
        return SchemaStatus(True, revision, version)
    return SchemaStatus(True, revision, version, tuple(_missing(connection)))


def _recorded_revision(connection: Connection, version: str | None) -> str | None:
    if version == str(schema.SCHEMA_VERSION):
        if not connection.dialect.has_table(connection, "alembic_version"):
            return None
        found = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return str(found) if found is not None else None
    return schema.LEGACY_REVISIONS.get(version or "")


def _declared_tables() -> list[Table]:
    tables: dict[str, Table] = {}
    for stored in stored_kinds().values():
        tables[stored.table.name] = stored.table
        if stored.members is not None:
            tables[stored.members.name] = stored.members
    return list(tables.values())


def _missing(connection: Connection) -> list[str]:
    inspector = inspect(connection)
    present = set(inspector.get_table_names())
    missing = []
    for table in _declared_tables():
        if table.name not in present:
            missing.append(table.name)
            continue
        columns = {column["name"] for column in inspector.get_columns(table.name)}
        missing.extend(f"{table.name}.{c.name}" for c in table.columns if c.name not in columns)
    return missing


def create(connection: Connection) -> None:
    """Lay out a new sandbox in an empty database, in the caller's transaction."""
    upgrade(connection)


def upgrade(connection: Connection) -> list[str]:
    """Bring the schema to this crmconf's, in the caller's transaction; what was done.

    A sandbox from before Alembic is first marked with the revision its version matches;
    then the recorded revisions run, then the declared tables and columns it lacks are
    added.
    """
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    done: list[str] = []
    found = status(connection)
    context = MigrationContext.configure(connection)
    if found.exists and found.version != str(schema.SCHEMA_VERSION):
        assert found.revision is not None
        context.stamp(_script_directory(), found.revision)
        done.append(f"recorded schema version {found.version} as revision {found.revision}")
    before = context.get_current_revision()
    config = _config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
    after = MigrationContext.configure(connection).get_current_revision()
    if after != before:
        done.append(f"revision {before or 'none'} → {after}")
    done.extend(_add_declared(connection))
    _write_meta(connection, _VERSION_KEY, str(schema.SCHEMA_VERSION))
    _write_meta(connection, _DECLARED_KEY, declared_digest())
    return done


def _add_declared(connection: Connection) -> list[str]:
    """Create the declared tables and columns the database lacks: only additions."""
    from alembic.autogenerate import compare_metadata
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(connection)
    operations = Operations(context)
    declared = {table.name: table for table in _declared_tables()}
    done = []
    diffs: Iterable[Any] = compare_metadata(context, schema.metadata)
    for diff in _flatten(diffs):
        if diff[0] == "add_table" and diff[1].name in declared:
            diff[1].create(connection)
            done.append(f"added table {diff[1].name}")
        elif diff[0] == "add_column" and diff[2] in declared:
            column: Column[Any] = diff[3]
            added = column._copy()
            added.nullable = True  # rows already there have no value for it
            operations.add_column(diff[2], added)
            done.append(f"added column {diff[2]}.{column.name}")
    return done


def _flatten(diffs: Iterable[Any]) -> Iterable[Any]:
    for diff in diffs:
        if isinstance(diff, list):  # column modifications come grouped; never applied here
            continue
        yield diff


def _write_meta(connection: Connection, key: str, value: str) -> None:
    table = schema.meta
    if connection.execute(select(table.c.key).where(table.c.key == key)).first():
        connection.execute(table.update().where(table.c.key == key).values(value=value))
    else:
        connection.execute(table.insert().values(key=key, value=value))


def transactional_engine(engine: Engine) -> Engine:
    """The engine, with SQLite's DDL inside the transaction too.

    Python's sqlite3 commits before DDL on its own; the SQLAlchemy documentation's
    recipe hands transaction control back to SQLAlchemy, so that a schema change either
    lands whole or not at all. PostgreSQL's DDL is transactional as it is.
    """
    if engine.dialect.name != "sqlite":
        return engine

    @event.listens_for(engine, "connect")
    def _no_implicit_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")

    return engine
