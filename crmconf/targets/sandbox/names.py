"""The name crmconf last left on each settings item, by id (`crmconf_applied_names`).

Written in the transaction of every apply and rollback (and by `sandbox init --demo`),
for the kinds it touched. An apply notes the name of each item it renamed and of each
item first seen, and forgets the items gone; an item it left as it was keeps the name
noted before, so a rename made by hand in the meantime is still told by a later pull. A
rollback and `init --demo` note every name as it is then. A name that differs later was
changed in the CRM, so `crmconf pull` can offer a rename instead of a removal and an
addition. It is bookkeeping beside the undo log, not journaled.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import Connection, String, delete, insert, literal, select

from crmconf.model.kind import Kind
from crmconf.targets.sandbox import schema
from crmconf.targets.sandbox.mapping import tables


def record(
    connection: Connection, kinds: Iterable[Kind], written: Mapping[str, set[int]] | None = None
) -> None:
    """Note these kinds' names, in the caller's transaction: every name as it is now, or,
    given `written` (per kind, the ids whose name this transaction wrote), those and the
    names of items not noted yet, keeping the rest."""
    stored = tables()
    names = schema.applied_names
    for kind in kinds:
        spec = stored.get(kind.name)
        if spec is None:
            continue  # a switch: it has no name to change
        table = spec.table
        mine = names.c.kind == kind.name
        ids = select(table.c.id)
        rows = select(literal(kind.name, String), table.c.id, table.c[spec.name_column])
        if spec.list_name:
            ids = ids.where(table.c.list == spec.list_name)
            rows = rows.where(table.c.list == spec.list_name)
        if written is None:
            connection.execute(delete(names).where(mine))
        else:
            renamed = written.get(kind.name, set())
            gone = ~names.c.item_id.in_(ids.scalar_subquery())
            connection.execute(delete(names).where(mine & (gone | names.c.item_id.in_(renamed))))
            noted = select(names.c.item_id).where(mine).scalar_subquery()
            rows = rows.where(~table.c.id.in_(noted))
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
