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

from crmconf.errors import (
    ForecastChangeError,
    PlanError,
    Problem,
    RefusedPlanError,
    UnsafePlanError,
)
from crmconf.model.configuration import Limits, Source
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


ChangesByKind = Mapping[str, frozenset[Capability]]
"""Per kind name, what the target can carry out itself; the rest are manual steps."""


@dataclass(frozen=True)
class Policy:
    """The rules a plan is held to before it may be applied, and the flags relaxing them.

    Recorded in the plan, so that whoever applies it (the CLI, the tenants runner, a
    Python caller, a saved plan) is held to the same rules.
    """

    limits: Limits = field(default_factory=Limits)
    """The mass-change limits: the configuration's `safety:` with --max-* flags over it."""
    allow_mass_change: bool = False
    """A person reviewed a plan beyond the limits and accepts it (--allow-mass-change)."""
    allow_forecast_change: bool = False
    """A person reviewed how far the plan moves the forecast and accepts it."""
    require_complete: bool = False
    """Refuse a plan that leaves changes or checks to be made by hand (--require-complete)."""
    refuse_orphans: bool = True
    """False only for reports (drift): deletes the CRM's data forbids are shown, not refused,
    and the plan can never be applied."""


class RefusalReason(StrEnum):
    UNSAFE = "unsafe"
    """Beyond the mass-change limits; `allow_mass_change` overrides it."""
    INCOMPLETE = "incomplete"
    """Steps or checks by hand remain, and `require_complete` was asked for."""
    REPORT_ONLY = "report_only"
    """Computed with orphan refusal off, to be shown: never applied."""
    FORECAST = "forecast"
    """Moves the weighted forecast beyond its limits; `allow_forecast_change` overrides it."""


@dataclass(frozen=True)
class Refusal:
    """Why a plan may not be applied (Terraform's "not applyable")."""

    reason: RefusalReason
    message: str

    def error(self) -> PlanError:
        if self.reason is RefusalReason.UNSAFE:
            return UnsafePlanError(self.message)
        if self.reason is RefusalReason.FORECAST:
            return ForecastChangeError(self.message)
        return RefusedPlanError(self.message)


@dataclass(frozen=True)
class Attested:
    """A check a person confirmed by hand and that still holds: attested, not observed."""

    kind: str
    field: str | None
    by: str
    at: str
    expires: str


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
    """Per kind with `prune: false`: items in the CRM the configuration does not list."""
    checks: tuple[Problem, ...] = ()
    """What the target cannot read, for a person to check by hand (also in `warnings`)."""
    policy: Policy = field(default_factory=Policy)
    refusals: tuple[Refusal, ...] = ()
    """Why this plan may not be applied, as found when it was made (crmconf.planning.safety
    finds them again before any apply: this field is for showing them)."""
    attested: tuple[Attested, ...] = ()
    """Checks left out because a person confirmed them (crmconf confirm) and the
    confirmation holds: what someone attests, never what crmconf observed."""
    only: tuple[str, ...] | None = None
    """The selectors of --only (KIND or KIND:PATTERN) it was limited to, if any."""
    exclude: tuple[str, ...] | None = None
    """The selectors of --exclude, if any."""
    left_out: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Per kind, the items --only / --exclude left alone (configuration or target)."""
    source: Source | None = None
    """Where the configuration was loaded from (for saving the plan)."""
    content_digest: str = ""
    """What the configuration declared, merged and substituted (model.configuration)."""
    target: str = ""
    """The target's resolved, printable URL."""

    @property
    def applyable(self) -> bool:
        """Whether the plan may be applied as it is (it may still be stale by then)."""
        return not self.refusals

    def raise_if_unapplyable(self) -> None:
        """Raise the first reason this plan may not be applied, as found when it was made:
        UnsafePlanError for the mass-change guard, RefusedPlanError for the rest.
        (crmconf.api.apply finds the reasons again from the plan's data before applying.)"""
        for refusal in self.refusals:
            raise refusal.error()

    @property
    def by_hand(self) -> int:
        """Changes a person must make and checks a person must do."""
        return len(self.manual_steps) + len(self.checks)

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
