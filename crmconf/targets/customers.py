"""Restoring deleted customers (Återställa kunder): a service the CRM must have switched on.

A deleted customer stays in the CRM, marked deleted, until restored. The vendor's
support activates the service; crmconf manages its switch as `features.restore_customers`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from crmconf.errors import CrmconfError
from crmconf.kinds import RESTORE_CUSTOMERS

RESTORE_SWITCH = RESTORE_CUSTOMERS.name


class RestoreError(CrmconfError):
    """Customers cannot be listed or restored as asked; nothing was restored."""


def not_activated() -> RestoreError:
    return RestoreError(
        "restoring deleted customers (Återställa kunder) is not activated in this CRM: "
        f"set {RESTORE_SWITCH}: true and apply, or ask the vendor's support"
    )


@dataclass(frozen=True)
class DeletedCustomer:
    id: int
    name: str
    industry: str | None
    status: str | None
    """The customer's status type, e.g. Aktiv."""


@dataclass(frozen=True)
class Restored:
    customers: tuple[DeletedCustomer, ...]
    history_entry: int | None = None
    """Where the target records changes: the entry that can roll the restore back."""


def restorable(
    ids: Sequence[int], deleted: Iterable[DeletedCustomer], names: Mapping[int, str]
) -> tuple[DeletedCustomer, ...]:
    """The deleted customers `ids` name, in that order; RestoreError naming every id that is
    unknown (`names` holds every existing customer asked for) or not deleted."""
    found = {customer.id: customer for customer in deleted}
    unknown = [str(number) for number in ids if number not in names]
    living = [
        f"{number} ({names[number]})" for number in ids if number in names and number not in found
    ]
    problems = []
    if unknown:
        problems.append(f"no customer has id {', '.join(unknown)}")
    if living:
        problems.append(f"not deleted: {', '.join(living)}")
    if problems:
        raise RestoreError(
            "cannot restore: " + "; ".join(problems) + ". Nothing was restored; "
            "'crmconf customers deleted' lists the deleted customers"
        )
    return tuple(found[number] for number in ids)
