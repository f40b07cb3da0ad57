"""A shared state backend in PostgreSQL, for targets that keep no state of their own.

The SQL sandbox keeps its lock and history in its own database. An API target such as
24SevenOffice has nowhere to put them, so several CI runners and admins applying to one
account would not know of each other. With `CRMCONF_STATE=postgresql://…` set, every
apply to such a target

- holds a lock on that target in the backend: an advisory lock on a session held for
  the whole apply, so a holder that crashes releases it with its connection; a row
  names the holder for the message another process gets ("locked by … since …");
- is recorded in the backend's history, applied or failed (an API target without
  transactions may fail part-way, and its error says what was done).

`crmconf.api.apply` does this through `coordinated`; a target's own write paths can
use `StateBackend.lock` and `StateBackend.record` directly. Locks and history are
keyed by the target's printable URL (`Target.url`). The backend creates its two
tables (`crmconf_state_lock`, `crmconf_state_history`) on first use.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    func,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from crmconf.errors import TargetError
from crmconf.planning.changes import Plan
from crmconf.planning.document import plan_document, summary_line
from crmconf.targets.base import Target
from crmconf.targets.capabilities import Feature
from crmconf.targets.postgres import DIALECT, advisory_lock, lock_key, reason, with_driver
from crmconf.targets.urls import malformed_url
from crmconf.targets.variables import STATE_VARIABLE

metadata = MetaData()

locks = Table(
    "crmconf_state_lock",
    metadata,
    Column("target", String(500), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("host", String(200), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("command", String(40), nullable=False),
    Column("since", String(40), nullable=False),
)

history = Table(
    "crmconf_state_history",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("target", String(500), nullable=False, index=True),
    Column("at", String(40), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("command", String(40), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("summary", Text, nullable=False),
    Column("config_digest", String(64), nullable=False),
    Column("changes", Text, nullable=False),
    Column("error", Text, nullable=False),
)

budgets = Table(
    "crmconf_state_budget",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("state", Text, nullable=False),
)
"""Request budgets shared by every machine using the backend (24SevenOffice's rate limit)."""

SCHEMA_KEY = lock_key("crmconf state backend schema")
"""Serialises creating the tables, so runners starting at once do not collide."""


@dataclass(frozen=True)
class StateEntry:
    """One apply to a target, as the state backend recorded it."""

    id: int
    target: str
    at: str
    actor: str
    command: str
    outcome: str
    """"applied", or "failed" (the error says what an API target did before failing)."""
    summary: str
    config_digest: str
    changes: list[dict[str, Any]]
    error: str


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class StateBackend:
    """Locks and apply history of many targets, in one PostgreSQL database."""

    def __init__(self, engine: Engine, url: str) -> None:
        self.engine = engine
        self.url = url

    @classmethod
    def open(cls, url: str) -> StateBackend:
        """Connect to the backend at a postgresql:// URL, creating its tables on first use."""
        try:
            parsed = make_url(url)
        except (ArgumentError, ValueError):  # ValueError: a port that is not a number
            raise TargetError(f"{STATE_VARIABLE} is {malformed_url(url)}") from None
        safe_url = parsed.render_as_string(hide_password=True)
        if parsed.get_backend_name() != DIALECT:
            raise TargetError(
                f"{STATE_VARIABLE}={safe_url}: the state backend needs PostgreSQL "
                "(postgresql://USER@HOST/DATABASE), whose advisory locks it uses"
            )
        engine = create_engine(with_driver(parsed))
        try:
            with engine.begin() as connection:
                connection.execute(select(func.pg_advisory_xact_lock(SCHEMA_KEY)))
                metadata.create_all(connection)
        except SQLAlchemyError as error:
            engine.dispose()
            raise TargetError(
                f"cannot open the state backend {STATE_VARIABLE}={safe_url}: {reason(error)}"
            ) from None
        return cls(engine, safe_url)

    @contextmanager
    def budget_state(self, name: str) -> Iterator[dict[str, Any]]:
        """A budget's state (JSON data), read and written back in one transaction that holds
        its row: one taker at a time, on whatever machine."""
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    postgresql.insert(budgets)
                    .values(name=name, state="{}")
                    .on_conflict_do_nothing(index_elements=["name"])
                )
                text = connection.execute(
                    select(budgets.c.state).where(budgets.c.name == name).with_for_update()
                ).scalar_one()
                try:
                    loaded = json.loads(text)
                except ValueError:
                    loaded = {}  # a row crmconf did not write: count afresh rather than fail
                state: dict[str, Any] = loaded if isinstance(loaded, dict) else {}
                yield state
                connection.execute(
                    budgets.update().where(budgets.c.name == name).values(state=json.dumps(state))
                )
        except SQLAlchemyError as error:
            raise TargetError(
                f"cannot keep the request budget in the state backend {self.url}: {reason(error)}"
            ) from None

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> StateBackend:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def lock(self, target: str, *, holder: str, command: str, timeout: float) -> Iterator[None]:
        """Hold `target`'s lock for the block; wait up to `timeout` seconds for it."""

        def holder_of(session: Connection) -> str | None:
            row = session.execute(select(locks).where(locks.c.target == target)).first()
            if row is None:
                return None
            return f"{row.holder} ({row.command}, pid {row.pid} on {row.host}) since {row.since}"

        key = lock_key(f"crmconf target {target}")
        what = f"{target} (lock in {self.url})"
        with advisory_lock(
            self.engine, key, what=what, timeout=timeout, holder=holder_of
        ) as session:
            note = {
                "holder": holder,
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "command": command,
                "since": _now(),
            }
            try:
                # A row a crashed holder left is replaced: the advisory lock is ours now.
                session.execute(locks.delete().where(locks.c.target == target))
                session.execute(locks.insert().values(target=target, **note))
            except SQLAlchemyError as error:
                raise TargetError(f"cannot take the lock on {what}: {reason(error)}") from None
            try:
                yield
            finally:
                # Should this fail, the next holder replaces the row; the lock is released.
                with suppress(SQLAlchemyError):
                    session.execute(locks.delete().where(locks.c.target == target))

    def record(
        self,
        target: str,
        *,
        command: str,
        actor: str,
        outcome: str,
        summary: str,
        changes: list[dict[str, Any]],
        config_digest: str = "",
        error: str = "",
    ) -> int:
        """Add one entry to `target`'s history; returns its id."""
        try:
            with self.engine.begin() as connection:
                result = connection.execute(
                    history.insert().values(
                        target=target,
                        at=_now(),
                        actor=actor,
                        command=command,
                        outcome=outcome,
                        summary=summary,
                        config_digest=config_digest,
                        changes=json.dumps(changes, default=str, ensure_ascii=False),
                        error=error,
                    )
                )
        except SQLAlchemyError as failure:
            raise TargetError(
                f"cannot record in the state backend {self.url}: {reason(failure)}"
            ) from None
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def history(self, target: str | None = None) -> list[StateEntry]:
        """The recorded entries (of one target, or all), newest first."""
        query = select(history).order_by(history.c.id.desc())
        if target is not None:
            query = query.where(history.c.target == target)
        try:
            with self.engine.connect() as connection:
                rows = connection.execute(query).all()
        except SQLAlchemyError as error:
            raise TargetError(
                f"cannot read the state backend {self.url}: {reason(error)}"
            ) from None
        return [
            StateEntry(
                id=row.id,
                target=row.target,
                at=row.at,
                actor=row.actor,
                command=row.command,
                outcome=row.outcome,
                summary=row.summary,
                config_digest=row.config_digest,
                changes=json.loads(row.changes),
                error=row.error,
            )
            for row in rows
        ]


@contextmanager
def coordinated(
    target: Target, plan: Plan, environ: Mapping[str, str] = os.environ
) -> Iterator[None]:
    """Around an apply: with $CRMCONF_STATE set and a target keeping no history of its own,
    hold the backend's lock on the target for the block and record the apply, applied or
    failed. Otherwise it does nothing."""
    url = environ.get(STATE_VARIABLE)
    if not url or Feature.HISTORY in target.capabilities().features:
        yield
        return
    with (
        StateBackend.open(url) as state,
        state.lock(target.url, holder=target.actor, command="apply", timeout=target.lock_timeout),
    ):
        entry: dict[str, Any] = {
            "command": "apply",
            "actor": target.actor,
            "summary": summary_line(plan),
            "changes": plan_document(plan)["changes"],
            "config_digest": plan.config_digest,
        }
        try:
            yield
        except BaseException as error:
            failure = str(error) or type(error).__name__
            with suppress(TargetError):  # the apply's own error is the one to report
                state.record(target.url, outcome="failed", error=failure, **entry)
            raise
        state.record(target.url, outcome="applied", **entry)
