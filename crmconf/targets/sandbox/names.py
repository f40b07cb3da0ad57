"""The name crmconf last left on each settings item, by id (`crmconf_applied_names`).

Written in the transaction of every apply and rollback (and by `sandbox init --demo`),
for the kinds it touched: the names as they are then. A name that differs later was
changed in the CRM, so `crmconf pull` can offer a rename instead of a removal and an
addition. It is bookkeeping beside the undo log, not journaled: a rollback writes it
anew for the state it leaves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import Connection, String, delete, insert, literal, select

from crmconf.model.kind import Kind
from crmconf.targets.sandbox import schema
from crmconf.targets.sandbox.mapping import tables


def record(connection: Connection, kinds: Iterable[Kind]) -> None:
    """Note the current names of these kinds' items, in the caller's transaction."""
    stored = tables()
    names = schema.applied_names
    for kind in kinds:
        spec = stored.get(kind.name)
        if spec is None:
            continue  # a switch: it has no name to change
        connection.execute(delete(names).where(names.c.kind == kind.name))
        table = spec.table
        rows = select(literal(kind.name, String), table.c.id, table.c[spec.name_column])
        if spec.list_name:
            rows = rows.where(table.c.list == spec.list_name)
        connection.execute(insert(names).from_select(["kind", "item_id", "name"], rows))


def read(connection: Connection, kinds: Iterable[Kind]) -> dict[str, Mapping[str, str]]:
    """Per kind, item id (as text) → the name crmconf last left on it."""
    wanted = [kind.name for kind in kinds]
    names = schema.applied_names
    query = select(names.c.kind, names.c.item_id, names.c.name).where(names.c.kind.in_(wanted))
    found: dict[str, dict[str, str]] = {}
    for kind, item_id, name in connection.execute(query):
        found.setdefault(kind, {})[str(item_id)] = name
    return dict(found)
