"""The rules every plan is held to before it is applied — in the library, not the CLI.

octoDNS's `Plan.raise_if_unsafe` and Terraform's "applyable": a plan records the
`Policy` it was computed under, `refusals` tells what forbids applying it, and
`raise_if_unapplyable` is called by `crmconf.api.apply` on every plan, whoever made it,
from the plan's own data rather than from what the plan says of itself.

CRM lists are short, so besides octoDNS's share of a kind there is an absolute cap on
deletes: losing four industries in one apply is never a typo to let pass. Deletes that
would orphan customer data or remove a protected item are refused earlier, by the
planner, because no plan for them can be made at all.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, replace
from typing import Any

from crmconf.errors import PlanError, StalePlanError
from crmconf.kinds import KINDS_BY_NAME
from crmconf.model.configuration import Limits
from crmconf.model.state import State, fingerprint
from crmconf.planning.changes import Action, Plan, Policy, Refusal, RefusalReason

_MASS_CHANGE_HINT = (
    "review it, then pass --allow-mass-change (allow_mass_change=True from Python), or raise "
    "the limits with --max-deletes / --max-change-fraction, or under 'safety:' in the "
    "configuration"
)


def policy(
    limits: Limits,
    *,
    allow_mass_change: bool = False,
    max_deletes: int | None = None,
    max_change_fraction: float | None = None,
    require_complete: bool = False,
    refuse_orphans: bool = True,
    allow_forecast_change: bool = False,
    max_forecast_change_percent: float | None = None,
    max_forecast_change_amount: float | None = None,
) -> Policy:
    """The policy of one run: the configuration's limits with the run's flags over them."""
    flags: dict[str, Any] = {
        "max_deletes": max_deletes,
        "max_change_fraction": max_change_fraction,
        "max_forecast_change_percent": max_forecast_change_percent,
        "max_forecast_change_amount": max_forecast_change_amount,
    }
    limits = replace(limits, **{name: value for name, value in flags.items() if value is not None})
    for name, value in asdict(limits).items():
        # NaN compares false with every count, so a NaN limit would let every plan through.
        if value is not None and not math.isfinite(value):
            raise PlanError(f"{name} must be a finite number, not {value!r}")
    return Policy(
        limits,
        allow_mass_change=allow_mass_change,
        require_complete=require_complete,
        refuse_orphans=refuse_orphans,
        allow_forecast_change=allow_forecast_change,
    )


def refusals(plan: Plan) -> tuple[Refusal, ...]:
    """Everything that forbids applying the plan under its own policy, most basic first."""
    found: list[Refusal] = []
    if not plan.policy.refuse_orphans:
        found.append(
            Refusal(
                RefusalReason.REPORT_ONLY,
                "this plan was made for a report, with deletes the CRM's data forbids shown "
                "rather than refused: it can be shown, never applied; plan again to apply",
            )
        )
    if not plan.policy.allow_mass_change:
        reasons = mass_change(plan, plan.policy.limits)
        if reasons:
            found.append(
                Refusal(
                    RefusalReason.UNSAFE,
                    "refusing a plan that changes this much at once:\n  - "
                    + "\n  - ".join(reasons)
                    + "\n"
                    + _MASS_CHANGE_HINT,
                )
            )
    if plan.policy.require_complete and plan.by_hand:
        found.append(
            Refusal(
                RefusalReason.INCOMPLETE,
                f"{plan.by_hand} change(s) or check(s) can only be made by hand in the CRM "
                "(listed in the plan); nothing was applied because of --require-complete",
            )
        )
    return tuple(found)


def raise_if_unapplyable(plan: Plan) -> None:
    """Raise the first reason the plan may not be applied: UnsafePlanError for the
    mass-change guard, RefusedPlanError for the rest."""
    for refusal in refusals(plan):
        raise refusal.error()


def mass_change(plan: Plan, limits: Limits) -> list[str]:
    """What in the plan goes beyond the limits: per kind, too many deletes, or too large
    a share of its items updated or deleted."""
    touched: Counter[str] = Counter()
    deleted: Counter[str] = Counter()
    for change in plan.changes:
        if change.action is not Action.CREATE:
            touched[change.kind] += 1
        if change.action is Action.DELETE:
            deleted[change.kind] += 1
    reasons: list[str] = []
    for kind_name, count in touched.items():
        existing = plan.existing_counts.get(kind_name, 0)
        kind = KINDS_BY_NAME.get(kind_name)
        plural = kind.plural if kind is not None else "items"
        if deleted[kind_name] > limits.max_deletes:
            reasons.append(
                f"{kind_name}: {deleted[kind_name]} {plural} deleted (limit {limits.max_deletes})"
            )
        if existing >= limits.min_items and count > limits.max_change_fraction * existing:
            reasons.append(
                f"{kind_name}: {count} of {existing} {plural} updated or deleted "
                f"({count / existing:.0%}, limit {limits.max_change_fraction:.0%})"
            )
    return reasons


def refuse_if_stale(plan: Plan, current: State) -> None:
    """The one stale check, run by every target inside its write: the state the plan was
    computed from must still be the target's, to the byte of its fingerprint."""
    if not plan.target_fingerprint:
        raise StalePlanError(
            "this plan records no fingerprint of the target it was computed against, so "
            "whether the target changed since cannot be told; make it with crmconf.plan"
        )
    if fingerprint(current) != plan.target_fingerprint:
        raise StalePlanError("stale plan: the target changed since the plan was made; plan again")
