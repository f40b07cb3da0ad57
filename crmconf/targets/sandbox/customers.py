"""Deleted customers in the sandbox: listed, and restored in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select

from crmconf.targets.customers import (
    RESTORE_SWITCH,
    DeletedCustomer,
    Restored,
    not_activated,
    restorable,
)
from crmconf.targets.sandbox import history
from crmconf.targets.sandbox import schema as s
from crmconf.targets.sandbox.journal import Journal

LARGEST_ID = 2**31 - 1
"""The largest id a customer can have: its column is an INTEGER, 32 bits on PostgreSQL."""


def read_deleted(
    connection: Connection, ids: Iterable[int] | None = None
) -> tuple[DeletedCustomer, ...]:
    """The deleted customers by id, or exactly those `ids` name (else RestoreError)."""
    _refuse_unless_activated(connection)
    customers = s.customers
    query = (
        select(customers.c.id, customers.c.name, s.industries.c.name, s.status_types.c.name)
        .outerjoin(s.industries, customers.c.industry_id == s.industries.c.id)
        .outerjoin(s.status_types, customers.c.status_type_id == s.status_types.c.id)
        .where(customers.c.deleted.is_(True))
        .order_by(customers.c.id)
    )
    if ids is None:
        return tuple(DeletedCustomer(*row) for row in connection.execute(query))
    wanted = list(dict.fromkeys(ids))
    # An id no integer column can hold is no customer's; the database would not even
    # take it as a parameter (SQLite: OverflowError, PostgreSQL: out of range).
    possible = [number for number in wanted if 0 < number <= LARGEST_ID]
    chosen = query.where(customers.c.id.in_(possible))
    deleted = [DeletedCustomer(*row) for row in connection.execute(chosen)]
    existing = select(customers.c.id, customers.c.name).where(customers.c.id.in_(possible))
    names = {number: name for number, name in connection.execute(existing)}
    return restorable(wanted, deleted, names)


def restore_deleted(connection: Connection, ids: Iterable[int], actor: str) -> Restored:
    """Mark these deleted customers as not deleted, journaled so a rollback can undo it;
    all of them, or RestoreError and none."""
    chosen = read_deleted(connection, ids)
    customers = s.customers
    journal = Journal(connection)
    numbers = [customer.id for customer in chosen]
    journal.update(customers, customers.c.id.in_(numbers), {"deleted": False})
    entry = history.record(
        connection,
        journal,
        command="restore-customers",
        actor=actor,
        summary=f"restored {len(chosen)} deleted customer{'s' if len(chosen) != 1 else ''}",
        changes=[{"kind": "customers", "restored": numbers}],
    )
    return Restored(chosen, entry)


def _refuse_unless_activated(connection: Connection) -> None:
    switch = s.switches
    enabled = connection.scalar(select(switch.c.enabled).where(switch.c.name == RESTORE_SWITCH))
    if not enabled:
        raise not_activated()
