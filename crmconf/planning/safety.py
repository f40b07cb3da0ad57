"""Guards against plans that change too much at once (octoDNS's `raise_if_unsafe`).

CRM lists are short, so besides octoDNS's share of a kind there is an absolute
cap on deletes: losing four industries in one apply is never a typo to let pass.
"""

from __future__ import annotations

from collections import Counter

from crmconf.errors import PlanError
from crmconf.kinds import KINDS_BY_NAME
from crmconf.model.configuration import Limits
from crmconf.planning.changes import Action, Plan


def check_mass_change(plan: Plan, limits: Limits) -> None:
    """Refuse a plan that updates or deletes too much of any kind."""
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
        plural = KINDS_BY_NAME[kind_name].plural
        if deleted[kind_name] > limits.max_deletes:
            reasons.append(
                f"{kind_name}: {deleted[kind_name]} {plural} deleted (limit {limits.max_deletes})"
            )
        if existing >= limits.min_items and count > limits.max_change_fraction * existing:
            reasons.append(
                f"{kind_name}: {count} of {existing} {plural} updated or deleted "
                f"({count / existing:.0%}, limit {limits.max_change_fraction:.0%})"
            )
    if reasons:
        raise PlanError(
            "refusing a plan that changes this much at once:\n  - "
            + "\n  - ".join(reasons)
            + "\nreview it, then pass --allow-mass-change (or raise the limits with "
            "--max-deletes / --max-change-fraction, or under 'safety:' in the configuration)"
        )
