"""The target's lock on PostgreSQL: an advisory lock, plus the lock row saying who holds it.

The advisory lock is what excludes other writers; it lives as long as the holder's
session, so a holder that crashes (or loses its connection) releases it with no stale
lock to recover. The row only names the holder for the message another process gets.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import SQLAlchemyError

from crmconf.errors import TargetError
from crmconf.targets.postgres import advisory_lock, lock_key
from crmconf.targets.sandbox import schema
from crmconf.targets.sandbox.history import now

log = logging.getLogger(__name__)

KEY = lock_key("crmconf sandbox target")
"""Advisory locks belong to one database, so each sandbox database has its own."""
ROW = "target"


@contextmanager
def held_by_session(engine: Engine, *, holder: str, command: str, timeout: float) -> Iterator[None]:
    """Hold the target's lock for the block; wait up to `timeout` seconds for it."""
    table = schema.lock
    with advisory_lock(engine, KEY, what="the target", timeout=timeout, holder=_holder) as session:
        # A row left by a holder that crashed is replaced: the advisory lock is ours.
        try:
            session.execute(table.delete().where(table.c.name == ROW))
            session.execute(
                table.insert().values(
                    name=ROW,
                    holder=holder,
                    host=socket.gethostname(),
                    pid=os.getpid(),
                    command=command,
                    since=now(),
                )
            )
        except SQLAlchemyError as error:
            raise TargetError(
                f"cannot take the target's lock: {error.__cause__ or error}"
            ) from None
        try:
            yield
        finally:
            _clear(session)


def _holder(session: Connection) -> str | None:
    table = schema.lock
    row = session.execute(select(table).where(table.c.name == ROW)).first()
    if row is None:
        return None
    return f"{row.holder} ({row.command}, pid {row.pid} on {row.host}) since {row.since}"


def _clear(session: Connection) -> None:
    table = schema.lock
    try:
        session.execute(table.delete().where(table.c.name == ROW))
    except SQLAlchemyError as error:
        # The work is done (or rolled back); the next holder replaces the row anyway.
        log.warning("could not clear the target's lock row: %s", error.__cause__ or error)
