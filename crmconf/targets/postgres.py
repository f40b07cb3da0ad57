"""What PostgreSQL needs beyond portable SQLAlchemy Core, for the sandbox and the state backend.

- A plain `postgresql://` URL means psycopg 3 (SQLAlchemy's default would be psycopg2).
- Locks are advisory locks held by a session: when a holder crashes, its connection
  ends and the server releases its lock, so nobody has to guess whether it is stale.
- A row inserted with an explicit id (a rollback putting a deleted row back) leaves the
  table's sequence behind; it is advanced so later inserts do not collide with that id.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import URL, Connection, Engine, Table, func, select
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from crmconf.errors import TargetError

log = logging.getLogger(__name__)

DIALECT = "postgresql"
LOCK_NOT_AVAILABLE = "55P03"


def with_driver(url: URL) -> URL:
    """`postgresql://…` → `postgresql+psycopg://…`; any other URL as it is."""
    if url.drivername == DIALECT:
        return url.set(drivername=f"{DIALECT}+psycopg")
    return url


def lock_key(name: str) -> int:
    """A stable 64-bit advisory lock key for a name (advisory locks are numbered)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def advisory_lock(
    engine: Engine,
    key: int,
    *,
    what: str,
    timeout: float,
    holder: Callable[[Connection], str | None],
) -> Iterator[Connection]:
    """Hold advisory lock `key` for the block, waiting up to `timeout` seconds for it.

    Yields the session holding it (autocommit), on which the caller may note who holds
    `what`; `holder` reads that note back for the message another process gets.
    """
    try:
        session = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    except SQLAlchemyError as error:
        raise TargetError(f"cannot take the lock on {what}: {reason(error)}") from None
    try:
        _acquire(session, key, what=what, timeout=timeout, holder=holder)
        try:
            yield session
        finally:
            _unlock(session, key)
    finally:
        session.close()


def _acquire(
    session: Connection,
    key: int,
    *,
    what: str,
    timeout: float,
    holder: Callable[[Connection], str | None],
) -> None:
    try:
        if session.scalar(select(func.pg_try_advisory_lock(key))) or _wait(session, key, timeout):
            return
        blocker = holder(session) or "another crmconf process (taking it right now)"
    except SQLAlchemyError as error:
        raise TargetError(f"cannot take the lock on {what}: {reason(error)}") from None
    raise TargetError(
        f"{what} is locked by {blocker}; try again later, or wait for it with "
        "--lock-timeout SECONDS"
    )


def _wait(session: Connection, key: int, timeout: float) -> bool:
    """Queue for the lock up to `timeout` seconds: the server grants it first come, first
    served, where polling would let the holder's next command cut in ahead of waiters."""
    if timeout <= 0:
        return False
    session.scalar(select(func.set_config("lock_timeout", f"{round(timeout * 1000)}ms", False)))
    try:
        session.execute(select(func.pg_advisory_lock(key)))
        return True
    except OperationalError as error:
        if getattr(error.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
            return False
        raise
    finally:
        session.scalar(select(func.set_config("lock_timeout", "0", False)))


def _unlock(session: Connection, key: int) -> None:
    try:
        session.scalar(select(func.pg_advisory_unlock(key)))
    except SQLAlchemyError as error:
        # Never hand a connection that may still hold the lock back to the pool: dropping
        # it ends the session, and the server releases the lock with it.
        log.warning("could not release an advisory lock: %s", reason(error))
        session.invalidate()


def advance_sequence(connection: Connection, table: Table) -> None:
    """After inserting an explicit id: make the table's sequence continue past its ids.

    Never moves a sequence back, so ids handed out before are not reused either.
    """
    column = table.autoincrement_column
    if connection.dialect.name != DIALECT or column is None:
        return
    sequence = func.pg_get_serial_sequence(table.name, column.name)
    highest = select(func.max(column)).scalar_subquery()
    connection.execute(
        select(func.setval(sequence, func.greatest(highest, func.nextval(sequence) - 1)))
    )


def reason(error: SQLAlchemyError) -> str:
    """The first line of what the database said."""
    original = getattr(error, "orig", None) or error
    return str(original).splitlines()[0] if str(original) else type(original).__name__
