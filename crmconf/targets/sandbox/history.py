"""History of applies, moves and rollbacks, kept in the sandbox, and exact rollback."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, select

from crmconf.errors import HistoryError, TargetError
from crmconf.targets.sandbox import schema
from crmconf.targets.sandbox.journal import Journal, rows_touched
from crmconf.targets.sandbox.undo import Conflict, DamagedLog, footprint, read_log, undo


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
            at=_text(row, "at"),
            actor=_text(row, "actor"),
            command=_text(row, "command"),
            config_digest=_text(row, "config_digest"),
            summary=_text(row, "summary"),
            changes=_changes(row),
            rows=rows_touched(_log(row)),
            rollback_of=row.rollback_of,
            rolled_back_by=row.rolled_back_by,
        )
        for row in rows
    ]


class DamagedHistoryError(TargetError):
    """A history entry holds what crmconf cannot have written: it cannot be read or undone."""

    def __init__(self, entry_id: int, column: str, reason: str) -> None:
        super().__init__(
            f"history entry {entry_id} is damaged: its {column} column holds {reason}. "
            "crmconf cannot list or roll back a damaged entry; restore the sandbox from a "
            f"backup, or delete that row (DELETE FROM {schema.history.name} WHERE id = "
            f"{entry_id}) to go on without it"
        )


def _text(row: Row[Any], column: str) -> str:
    """A text column as crmconf wrote it: SQLite lets any column hold a BLOB or a number."""
    value = getattr(row, column)
    if not isinstance(value, str):
        raise DamagedHistoryError(row.id, column, f"{type(value).__name__}, not text")
    return value


def _log(row: Row[Any]) -> list[dict[str, Any]]:
    try:
        return read_log(row.undo)
    except DamagedLog as error:
        raise DamagedHistoryError(row.id, "undo", str(error)) from None


def _changes(row: Row[Any]) -> list[dict[str, Any]]:
    try:
        changes = json.loads(row.changes)
    except ValueError as error:
        raise DamagedHistoryError(row.id, "changes", f"no JSON ({error})") from None
    except RecursionError:
        raise DamagedHistoryError(
            row.id, "changes", "JSON nested deeper than any crmconf writes"
        ) from None
    if not isinstance(changes, list) or not all(isinstance(c, dict) for c in changes):
        raise DamagedHistoryError(row.id, "changes", "no list of changes")
    return changes


class RollbackRefused(HistoryError):
    """A rollback that would overwrite what changed since, or break identity; nothing done."""


@dataclass(frozen=True)
class RolledBack:
    """One entry undone by a rollback."""

    entry: int
    recorded_as: int
    left: tuple[Conflict, ...]
    """Rows changed since the entry, left as they are (with skip_changed)."""


def rollback(
    connection: Connection,
    entry_id: int,
    *,
    actor: str,
    cascade: bool,
    skip_changed: bool = False,
) -> list[RolledBack]:
    """Undo an entry exactly (and, with cascade, the later ones depending on it first).

    A row changed since its entry is not overwritten: the rollback is refused, naming
    every such row, or with skip_changed that row is left as it is and reported.
    Returns what was undone, in the order it was undone.
    """
    table = schema.history
    rows = {row.id: row for row in connection.execute(select(table).order_by(table.c.id))}
    target = rows.get(entry_id)
    if target is None:
        raise HistoryError(f"no history entry {entry_id}; see 'crmconf history'")
    if target.rolled_back_by is not None:
        raise HistoryError(
            f"entry {entry_id} was already rolled back by entry {target.rolled_back_by}"
        )
    if target.command == "rollback":
        raise HistoryError(
            f"entry {entry_id} is itself a rollback; roll back entry {target.rollback_of} "
            "again by applying its configuration instead"
        )
    logs = {target.id: _log(target)}
    undone = {target.id: footprint(logs[target.id])}
    reasons: dict[str, list[str]] = {}
    for row in rows.values():
        if row.id <= entry_id or row.rolled_back_by is not None or row.command == "rollback":
            continue
        logs[row.id] = _log(row)
        later = footprint(logs[row.id])
        reason = later.blocks(undone[target.id])
        if reason is None and any(later.blocks(other) for other in undone.values()):
            reason = "depend on those"
        if reason is not None:
            undone[row.id] = later
            reasons.setdefault(reason, []).append(f"{row.id} ({row.command} at {row.at})")
    if reasons and not cascade:
        listed = "; ".join(f"later entries {why}: {', '.join(ids)}" for why, ids in reasons.items())
        raise HistoryError(
            f"entry {entry_id} cannot be rolled back alone: {listed}. Roll those back first, "
            "or pass --cascade to undo them all, newest first"
        )
    done = []
    for entry in sorted(undone, reverse=True):
        row = rows[entry]
        journal, conflicts = undo(connection, logs[entry])
        _refuse_conflicts(entry, conflicts, skip_changed)
        left = f"; {len(conflicts)} rows changed since left as they are" if conflicts else ""
        new_id = record(
            connection,
            journal,
            command="rollback",
            actor=actor,
            summary=f"rollback of entry {row.id} ({row.command}: {row.summary}){left}",
            changes=[{"left_as_changed_since": [str(c) for c in conflicts]}] if conflicts else [],
            rollback_of=row.id,
        )
        connection.execute(table.update().where(table.c.id == row.id).values(rolled_back_by=new_id))
        done.append(RolledBack(row.id, new_id, tuple(conflicts)))
    return done


def _refuse_conflicts(entry_id: int, conflicts: list[Conflict], skip_changed: bool) -> None:
    breaking = [conflict for conflict in conflicts if not conflict.skippable]
    if not breaking and (skip_changed or not conflicts):
        return
    listed = "\n".join(f"  - {conflict}" for conflict in breaking or conflicts)
    if breaking:
        raise RollbackRefused(
            f"entry {entry_id} cannot be rolled back: it would break one name per item:\n"
            f"{listed}\nNothing was changed."
        )
    raise RollbackRefused(
        f"entry {entry_id} cannot be rolled back: the CRM changed since, and rolling back "
        f"would overwrite it:\n{listed}\nNothing was changed. Put those rows back as the "
        "entry left them, or pass --skip-changed to roll back the rest and leave them as "
        "they are now"
    )
