"""What a target holds now: its settings and how much customer data uses each item."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from crmconf.errors import TargetError
from crmconf.model.kind import Kind
from crmconf.model.names import identity


@dataclass(frozen=True)
class Usage:
    """How many records of the CRM's data point at one settings item."""

    customers: int = 0
    contacts: int = 0
    opportunities: int = 0

    @property
    def total(self) -> int:
        return self.customers + self.contacts + self.opportunities

    def __str__(self) -> str:
        parts = [
            f"{count} {noun}{'' if count == 1 else 's'}"
            for count, noun in (
                (self.customers, "customer"),
                (self.contacts, "contact"),
                (self.opportunities, "opportunity"),
            )
            if count
        ]
        return ", ".join(parts).replace("opportunitys", "opportunities") or "nothing"


@dataclass(frozen=True)
class ExistingItem:
    """One settings item as the target holds it."""

    id: int | str
    name: str
    fields: Mapping[str, Any]
    usage: Usage = field(default_factory=Usage)
    protected: bool | None = None
    """Whether `protect: true` was applied to it; None where the target cannot store that."""

    @property
    def key(self) -> str:
        return identity(self.name)


@dataclass(frozen=True)
class State:
    """The target's settings for the kinds read; ordered kinds in their order."""

    items: Mapping[str, tuple[ExistingItem, ...]]
    users: frozenset[str] | None = None
    """Logins of the CRM's users, where the target knows them (to check group members)."""
    user_names: Mapping[str, str] = field(default_factory=dict)
    """Each user's name by the number members are written as, where users are known by
    number (24SevenOffice), so a manual step can say who. Shown only: not fingerprinted."""
    revision: int | None = None
    """How many writes the target has recorded (the sandbox: its newest history entry),
    where it records them. An apply and its rollback leave the items as they were, ids
    and all; this still tells that a plan made before them is stale."""

    def of(self, kind: Kind) -> tuple[ExistingItem, ...]:
        return self.items.get(kind.name, ())


_FINGERPRINT_ENCODER = json.JSONEncoder(
    sort_keys=True, default=str, ensure_ascii=False, check_circular=False
)
"""Made once; the document has no cycles to look for (it is built right here)."""


def fingerprint(state: State) -> str:
    """A digest of everything a plan was computed from (the items of the kinds read, with
    their usage, the users and the target's revision), to refuse applying a stale plan."""
    # Computed on every plan, so built with as few objects as the same digest allows:
    # tuples encode as the lists they were, and a dict needs no copy.
    document: dict[str, Any] = {
        kind: [
            (
                str(item.id),
                item.name,
                item.fields if type(item.fields) is dict else dict(item.fields),
                vars(item.usage),
                item.protected,
            )
            for item in items
        ]
        for kind, items in sorted(state.items.items())
    }
    if state.users is not None:  # a member removed since the plan makes it stale too
        document["\0users"] = sorted(state.users)
    if state.revision is not None:
        document["\0revision"] = state.revision
    return hashlib.sha256(_FINGERPRINT_ENCODER.encode(document).encode()).hexdigest()


class DuplicateItemsError(TargetError):
    """The target holds items that are one item to crmconf: equal up to case and spacing."""


def refuse_duplicates(kind: Kind, items: tuple[ExistingItem, ...]) -> None:
    """Raise naming every set of `items` sharing one identity (a target such as a
    24SevenOffice account can hold them; crmconf could not tell which one is meant)."""
    named: dict[str, list[str]] = {}
    for item in items:
        named.setdefault(item.key, []).append(item.name)
    shared = [names for names in named.values() if len(names) > 1]
    if not shared:
        return
    listed = "; ".join(" and ".join(repr(name) for name in names) for names in shared)
    raise DuplicateItemsError(
        f"the target holds {kind.name} that are one item to crmconf (names equal up to case "
        f"and spacing): {listed}. crmconf cannot tell which one is meant: rename one of each "
        "in the CRM, or merge them there (move what uses one to the other, then delete it)"
    )
