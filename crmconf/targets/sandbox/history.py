"""History of applies, moves and rollbacks, kept in the sandbox, and exact rollback."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from crmconf.errors import PlanError
from crmconf.targets.sandbox import schema
from crmconf.targets.sandbox.journal import Journal, rows_touched, touched, undo


@dataclass(frozen=True)
class HistoryEntry:
    """One recorded apply, move or rollback."""

    id: int
    at: str
    actor: str
    command: str
    config_digest: str
    summary: str
    changes: list[dict[str, Any]]
    rows: int
    """How many rows it touched (settings and the data referencing them)."""
    rollback_of: int | None
    rolled_back_by: int | None


_ENCODER = json.JSONEncoder(default=str, ensure_ascii=False, check_circular=False)
"""For the changes of an entry: plain data built for it, with no cycles to look for."""


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def record(
    connection: Connection,
    journal: Journal,
    *,
    command: str,
    actor: str,
    summary: str,
    changes: list[dict[str, Any]],
    config_digest: str = "",
    rollback_of: int | None = None,
) -> int:
    """Store one history entry with its undo log, in the caller's transaction."""
    result = connection.execute(
        schema.history.insert().values(
            at=now(),
            actor=actor,
            command=command,
            config_digest=config_digest,
            summary=summary,
            changes=_ENCODER.encode(changes),
            undo=journal.dumps(),
            rollback_of=rollback_of,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def entries(connection: Connection) -> list[HistoryEntry]:
    """Every entry, newest first."""
    rows = connection.execute(select(schema.history).order_by(schema.history.c.id.desc()))
    return [
        HistoryEntry(
            id=row.id,
            at=row.at,
            actor=row.actor,
            command=row.command,
            config_digest=row.config_digest,
            summary=row.summary,
            changes=json.loads(row.changes),
            rows=rows_touched(json.loads(row.undo)),
            rollback_of=row.rollback_of,
            rolled_back_by=row.rolled_back_by,
        )
        for row in rows
    ]


def rollback(
    connection: Connection, entry_id: int, *, actor: str, cascade: bool
) -> list[tuple[int, int]]:
    """Undo an entry exactly (and, with cascade, the later ones touching the same rows first).

    Returns (undone entry, new rollback entry) pairs, in the order they were undone.
    """
    table = schema.history
    rows = {row.id: row for row in connection.execute(select(table).order_by(table.c.id))}
    target = rows.get(entry_id)
    if target is None:
        raise PlanError(f"no history entry {entry_id}; see 'crmconf history'")
    if target.rolled_back_by is not None:
        raise PlanError(
            f"entry {entry_id} was already rolled back by entry {target.rolled_back_by}"
        )
    if target.command == "rollback":
        raise PlanError(
            f"entry {entry_id} is itself a rollback; roll back entry {target.rollback_of} "
            "again by applying its configuration instead"
        )
    mine = touched(json.loads(target.undo))
    dependants = [
        row
        for row in rows.values()
        if row.id > entry_id
        and row.rolled_back_by is None
        and row.command != "rollback"
        and touched(json.loads(row.undo)) & mine
    ]
    if dependants and not cascade:
        listed = ", ".join(f"{row.id} ({row.command} at {row.at})" for row in dependants)
        raise PlanError(
            f"entry {entry_id} cannot be rolled back alone: later entries changed the same "
            f"rows: {listed}. Roll those back first, or pass --cascade to undo them all, "
            "newest first"
        )
    done = []
    for row in sorted([*dependants, target], key=lambda row: -row.id):
        journal = undo(connection, json.loads(row.undo))
        new_id = record(
            connection,
            journal,
            command="rollback",
            actor=actor,
            summary=f"rollback of entry {row.id} ({row.command}: {row.summary})",
            changes=[],
            rollback_of=row.id,
        )
        connection.execute(table.update().where(table.c.id == row.id).values(rolled_back_by=new_id))
        done.append((row.id, new_id))
    return done
