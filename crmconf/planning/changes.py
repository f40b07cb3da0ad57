"""A plan is data: the changes that make a target equal to a configuration.

Planning computes them, targets apply them in the order held here, renderers only
read them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from crmconf.errors import Problem
from crmconf.model.state import ExistingItem, Usage


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class Capability(StrEnum):
    """What a target can do for a kind by itself (octoDNS's SUPPORTS)."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    MOVE = "move"
    """Move the customer data using an item to another (the product's "Flytta kunder")."""


Capabilities = Mapping[str, frozenset[Capability]]
"""Per kind name, what the target can carry out itself; the rest are manual steps."""


@dataclass(frozen=True)
class Change:
    """One item created, updated or deleted.

    `before` and `after` hold the item's name and compared fields; for an update
    only `changed` fields differ. `id` is the target's own identifier of an
    existing item: targets need it, renderers never show it.
    """

    kind: str
    action: Action
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    changed: tuple[str, ...] = ()
    id: int | str | None = None
    usage: Usage | None = None
    migration: Mapping[str, Any] | None = None
    """For a delete declared under `removed:`: ``{"move_to": name}`` or ``{"clear": True}``."""
    manual_step: str | None = None
    """Set when the target cannot make this change: what a person does in the CRM's UI."""

    @property
    def manual(self) -> bool:
        return self.manual_step is not None

    @property
    def name(self) -> str:
        """The item's name after the change (before it, for a delete)."""
        side = self.after if self.after is not None else self.before
        assert side is not None
        return str(side["name"])

    @property
    def is_rename(self) -> bool:
        return "name" in self.changed

    @property
    def is_move(self) -> bool:
        """A group moved to another parent, or a stage or option moved in its list."""
        return "parent" in self.changed or "position" in self.changed


@dataclass(frozen=True)
class Plan:
    """The ordered changes for one target, and what the planner noticed on the way."""

    changes: tuple[Change, ...]
    final_order: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """For ordered kinds with changes: every item's name in its final order."""
    warnings: tuple[Problem, ...] = ()
    existing_counts: Mapping[str, int] = field(default_factory=dict)
    """Items of each managed kind in the target when planned (for the mass-change guard)."""
    kinds_read: tuple[str, ...] = ()
    config_digest: str = ""
    target_fingerprint: str = ""
    """Digest of the kinds read from the target; applying against another state is refused."""
    unmanaged: Mapping[str, tuple[ExistingItem, ...]] = field(default_factory=dict)
    checks: tuple[Problem, ...] = ()
    """What the target cannot read, for a person to check by hand (also in `warnings`)."""
    """Per kind with `prune: false`: items in the CRM the configuration does not list."""

    @property
    def empty(self) -> bool:
        return not self.changes

    @property
    def manual_steps(self) -> tuple[Change, ...]:
        """Changes a person must make by hand, in the order they must be done."""
        return tuple(change for change in self.changes if change.manual)

    @property
    def automatic(self) -> tuple[Change, ...]:
        return tuple(change for change in self.changes if not change.manual)

    def summary(self) -> dict[str, int]:
        counts = Counter(change.action for change in self.changes)
        return {action.value: counts.get(action, 0) for action in Action}
