"""Creating, resetting, upgrading and filling the sandbox: the only code that lays out or
changes its schema, each in one transaction.

A new SQLite sandbox is built in a private temporary file beside its place and renamed
into it once complete, so a failure (a full disk, say) leaves no half-made sandbox.
PostgreSQL's schema changes are transactional as they are.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from pathlib import Path

from sqlalchemy import Connection, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from crmconf.errors import TargetError
from crmconf.targets.sandbox import revisions, schema
from crmconf.targets.sandbox.demo import load_demo
from crmconf.targets.sandbox.target import SandboxTarget, _engine, _reason


def init_sandbox(url: str, demo: bool = False, reset: bool = False) -> str:
    """Create the sandbox at url (with `reset`: anew, whatever it held); its printable URL."""
    engine, safe_url, resolved = _engine(url)
    engine.dispose()
    database = make_url(resolved).database
    if engine.dialect.name == "sqlite" and database:
        _init_sqlite_file(Path(database), resolved, safe_url, demo=demo, reset=reset)
        return safe_url
    target = SandboxTarget.connect_to(url)
    try:
        with revisions.transactional_engine(target.engine).begin() as connection:
            found = revisions.status(connection)
            if found.exists and reset:
                _drop_everything(connection)
            elif found.exists:
                _refuse_existing(found, connection, safe_url, demo)
            if reset or not found.exists:
                revisions.create(connection)
            if demo:
                load_demo(connection)
    except SQLAlchemyError as error:
        raise TargetError(f"cannot create the sandbox at {safe_url}: {_reason(error)}") from None
    finally:
        target.close()
    return safe_url


def upgrade_sandbox(url: str) -> list[str]:
    """Bring an existing sandbox's schema to this crmconf's, in one transaction; what was
    done (nothing when it is current already)."""
    target = SandboxTarget.open(url)
    try:
        if target.schema.current:
            return []
        with revisions.transactional_engine(target.engine).begin() as connection:
            return revisions.upgrade(connection)
    except SQLAlchemyError as error:
        raise TargetError(
            f"upgrading {target.url} failed and was rolled back, it is unchanged: {_reason(error)}"
        ) from None
    finally:
        target.close()


def _refuse_existing(
    found: revisions.SchemaStatus, connection: Connection, url: str, demo: bool
) -> None:
    if not found.current:
        raise TargetError(
            f"{url} holds a sandbox of an older schema: run 'crmconf sandbox upgrade "
            f"--target {url}', or pass --reset to start it anew"
        )
    if demo and connection.scalar(select(func.count()).select_from(schema.users)):
        raise TargetError(f"{url} already holds data; pass --reset to start it anew")


def _not_a_sandbox(path: Path) -> str | None:
    """Why the file at `path` is not a sandbox crmconf may create or replace, or None: an
    empty file (or none) holds nothing to lose; anything else must be crmconf's own."""
    try:
        if not path.exists() or (path.is_file() and path.stat().st_size == 0):
            return None
    except OSError:
        return None  # creating it will say why it cannot be reached
    if not path.is_file():
        return "not a file"
    try:
        with contextlib.closing(
            sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        ) as db:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError:
        return "not an SQLite database"
    if schema.meta.name not in tables:
        return "an SQLite database without crmconf's tables"
    return None


def _init_sqlite_file(path: Path, resolved: str, url: str, *, demo: bool, reset: bool) -> None:
    # --reset replaces the file whole: never one crmconf did not make (a typo in --target).
    foreign = _not_a_sandbox(path)
    if foreign is not None:
        raise TargetError(
            f"{url} is not a crmconf sandbox ({foreign}); crmconf creates a sandbox only where "
            "none is, and replaces only its own: choose another path, or move that file away"
        )
    if path.exists() and path.stat().st_size and not reset:
        target = SandboxTarget.open(url)
        try:
            with target.engine.connect() as connection:
                _refuse_existing(target.schema, connection, url, demo)
            if demo:
                with target.engine.begin() as connection:
                    load_demo(connection)
        finally:
            target.close()
        return
    try:
        # The sandbox holds customer data: keep its folder and file private to the owner.
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.init-", dir=path.parent)
        os.close(handle)  # created 0600: what the renamed sandbox keeps
    except OSError as error:
        raise TargetError(f"cannot create the sandbox at {url}: {error.strerror}") from None
    building = Path(name)
    try:
        engine, _safe, _resolved = _engine(make_url(resolved).set(database=name).render_as_string())
        try:
            with revisions.transactional_engine(engine).begin() as connection:
                revisions.create(connection)
                if demo:
                    load_demo(connection)
        finally:
            engine.dispose()
        for leftover in (f"{path}-journal", f"{path}-wal", f"{path}-shm"):  # the old file's
            with contextlib.suppress(FileNotFoundError):
                os.remove(leftover)
        os.replace(building, path)
    except SQLAlchemyError as error:
        raise TargetError(f"cannot create the sandbox at {url}: {_reason(error)}") from None
    except OSError as error:
        raise TargetError(f"cannot create the sandbox at {url}: {error.strerror}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            building.unlink()


def _drop_everything(connection: Connection) -> None:
    """Every table of the database, whatever references what (PostgreSQL: CASCADE)."""
    preparer = connection.dialect.identifier_preparer
    for name in inspect(connection).get_table_names():
        connection.execute(text(f"DROP TABLE IF EXISTS {preparer.quote(name)} CASCADE"))
