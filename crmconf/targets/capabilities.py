"""What a target can do, declared in one place (dnscontrol's one capability list).

Per kind: whether the target can read it (and which fields it cannot), and which
changes it can make itself — create, update, delete, and move the customer data of a
deleted item. Besides kinds, optional features: a history crmconf can read and roll
back, customer moves on demand, the weighted pipeline, listing and restoring deleted
customers. The planner turns what a target cannot change into manual steps and what
it cannot read into checks; commands ask `require` before they start, and its message
names the missing capability.

A target that declares `Capabilities.everything` supports every kind of the registry,
including kinds registered later; one that declares `Capabilities.listing` supports
exactly the kinds it lists, and every other kind — a new one too — is "not compared,
check by hand" there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from crmconf.errors import TargetError
from crmconf.kinds import ALL_KINDS
from crmconf.planning.changes import Capability
from crmconf.targets.visibility import Unreadable

__all__ = ["Capabilities", "Capability", "Feature", "KindSupport"]


class Feature(StrEnum):
    """What a target can do besides planning and applying settings."""

    HISTORY = "history"
    """It keeps a history of applies, moves and rollbacks crmconf can read, and can roll
    an entry back exactly (`crmconf history`, `crmconf rollback`)."""
    MOVE_CUSTOMERS = "move_customers"
    """It moves every customer of an industry or status type to another on demand, recorded
    and reversible (`crmconf move-customers`; moves inside an apply are per kind: MOVE)."""
    PIPELINE = "pipeline"
    """It reports its opportunities, for forecasts and a plan's pipeline impact."""
    LIST_DELETED_CUSTOMERS = "list_deleted_customers"
    """It lists the customers deleted in it (`crmconf customers deleted`)."""
    RESTORE_CUSTOMERS = "restore_customers"
    """It restores deleted customers (`crmconf customers restore`)."""


_CANNOT: Mapping[Feature, str] = {
    Feature.HISTORY: "keep a history crmconf can read or roll back",
    Feature.MOVE_CUSTOMERS: (
        "move customers on demand, recorded and reversible (crmconf move-customers); "
        "declare the move under 'removed:' and apply it instead"
    ),
    Feature.PIPELINE: "report its opportunities to crmconf",
    Feature.LIST_DELETED_CUSTOMERS: "list its deleted customers through crmconf",
    Feature.RESTORE_CUSTOMERS: "restore deleted customers through crmconf",
}


@dataclass(frozen=True)
class KindSupport:
    """What a target can do with one kind."""

    read: bool = True
    changes: frozenset[Capability] = frozenset(Capability)
    """The changes it makes itself; the others become manual steps of a plan."""
    unreadable_fields: frozenset[str] = frozenset()
    """Fields of a kind it reads that it cannot read: left out and listed as checks."""


NOTHING = KindSupport(read=False, changes=frozenset())
"""Neither read nor changed: every item is a check, every change a manual step."""
EVERYTHING = KindSupport()


@dataclass(frozen=True)
class Capabilities:
    """Everything one target can do: per kind, and its optional features."""

    kinds: Mapping[str, KindSupport] = field(default_factory=dict)
    default: KindSupport = NOTHING
    """For every kind not in `kinds`, registered now or later."""
    features: frozenset[Feature] = frozenset()

    @classmethod
    def everything(cls, features: frozenset[Feature] = frozenset(Feature)) -> Capabilities:
        """Every kind read and changed in full (a target that owns its data, as the sandbox)."""
        return cls({}, EVERYTHING, features)

    @classmethod
    def listing(
        cls, kinds: Mapping[str, KindSupport], features: frozenset[Feature] = frozenset()
    ) -> Capabilities:
        """Exactly the kinds listed (an API that exposes some settings); others: nothing."""
        return cls(dict(kinds), NOTHING, features)

    def of(self, kind_name: str) -> KindSupport:
        return self.kinds.get(kind_name, self.default)

    def changes(self) -> dict[str, frozenset[Capability]]:
        """Per kind of the registry, the changes the target makes itself (for the planner)."""
        return {kind.name: self.of(kind.name).changes for kind in ALL_KINDS}

    def unreadable(self) -> Unreadable:
        """The kinds and fields the target cannot read (for crmconf.targets.visibility)."""
        kinds = frozenset(kind.name for kind in ALL_KINDS if not self.of(kind.name).read)
        fields = {
            kind.name: self.of(kind.name).unreadable_fields
            for kind in ALL_KINDS
            if self.of(kind.name).read and self.of(kind.name).unreadable_fields
        }
        return Unreadable(kinds, fields)

    def require(self, feature: Feature, target: str) -> None:
        """Refuse, before anything starts, a command the target has no capability for."""
        if feature not in self.features:
            raise TargetError(f"{target} cannot {_CANNOT[feature]}")
