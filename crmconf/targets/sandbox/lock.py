"""One writer at a time: a lock row naming who holds it, recoverable when its holder died.

SQLite already serialises write transactions; the lock adds what a person needs
when two admins or CI runners collide — who holds the target and since when — and
keeps one apply's read-check-write sequence whole across processes.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from crmconf.errors import TargetError
from crmconf.targets.sandbox import schema
from crmconf.targets.sandbox.advisory import held_by_session
from crmconf.targets.sandbox.history import now

log = logging.getLogger(__name__)

_HELD_HERE: Counter[str] = Counter()
"""The databases whose lock this process holds right now (by how many holders: threads).
A lock row naming this process for a database not among them was left by a release that
failed: it is taken over."""

STALE_AFTER = timedelta(hours=1)
"""A lock older than this is taken over even when its holder cannot be checked."""
POLL_SECONDS = 0.2


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stale(database: str, host: str, pid: int, since: str) -> bool:
    if host == socket.gethostname() and pid == os.getpid():
        return _HELD_HERE[database] == 0
    if host == socket.gethostname() and not _alive(pid):
        return True
    try:
        started = datetime.strptime(since, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise TargetError(
            f"the target's lock row (table {schema.lock.name}) is damaged: its time "
            f"since={since!r} is not one crmconf writes, so crmconf cannot tell whether its "
            f"holder (pid {pid} on {host}) still runs. If it does not, delete the row: "
            f"DELETE FROM {schema.lock.name} WHERE name = 'target'"
        ) from None
    return datetime.now(UTC) - started > STALE_AFTER


def _try_acquire(engine: Engine, holder: str, command: str) -> str | None:
    """Take the lock; None on success, else who holds it."""
    table = schema.lock
    host, pid = socket.gethostname(), os.getpid()
    with engine.begin() as connection:
        row = connection.execute(select(table).where(table.c.name == "target")).first()
        if row is not None:
            if not _stale(_database(engine), row.host, row.pid, row.since):
                return (
                    f"{row.holder} ({row.command}, pid {row.pid} on {row.host}) since {row.since}"
                )
            connection.execute(table.delete().where(table.c.name == "target"))
        connection.execute(
            table.insert().values(
                name="target", holder=holder, host=host, pid=pid, command=command, since=now()
            )
        )
    return None


@contextmanager
def held(engine: Engine, *, holder: str, command: str, timeout: float) -> Iterator[None]:
    """Hold the target's lock for the block; wait up to `timeout` seconds for it."""
    if engine.dialect.name == "postgresql":
        # Held by a session there: a crashed holder's lock ends with its connection.
        with held_by_session(engine, holder=holder, command=command, timeout=timeout):
            yield
        return
    deadline = time.monotonic() + max(timeout, 0)
    while True:
        try:
            blocker = _try_acquire(engine, holder, command)
        except IntegrityError:
            blocker = "another crmconf process (it is taking the lock right now)"
        except SQLAlchemyError as error:
            reason = error.__cause__ or error
            raise TargetError(f"cannot take the target's lock: {reason}") from None
        if blocker is None:
            break
        if time.monotonic() >= deadline:
            raise TargetError(
                f"the target is locked by {blocker}; try again later, or wait for it with "
                "--lock-timeout SECONDS"
            )
        time.sleep(POLL_SECONDS)
    _HELD_HERE[_database(engine)] += 1
    try:
        yield
    finally:
        _release(engine)
        _HELD_HERE[_database(engine)] -= 1


def _database(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _release(engine: Engine) -> None:
    table = schema.lock
    try:
        with engine.begin() as connection:
            connection.execute(
                table.delete().where(
                    table.c.name == "target",
                    table.c.pid == os.getpid(),
                    table.c.host == socket.gethostname(),
                )
            )
    except SQLAlchemyError as error:
        # The work is done (or rolled back) already; the next process takes over a lock
        # whose holder has exited, so a failed release must not fail the command.
        log.warning("could not release the target's lock: %s", error.__cause__ or error)
