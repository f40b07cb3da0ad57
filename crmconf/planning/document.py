"""A plan as plain JSON data: the one form saved plans, history entries and `--format json`
all use, so that they can never disagree about what a plan held.

`format_version` grows by adding fields only (Terraform's rule).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crmconf.planning.changes import Change, Plan

FORMAT_VERSION = 1


def change_document(change: Change) -> dict[str, Any]:
    """One change as JSON data (its target id is never part of it: see saved plans)."""
    data: dict[str, Any] = {
        "kind": change.kind,
        "key": change.name,
        "action": change.action.value,
        "before": dict(change.before) if change.before is not None else None,
        "after": dict(change.after) if change.after is not None else None,
        "changed": list(change.changed),
    }
    if change.migration is not None:
        data["migration"] = dict(change.migration)
    if change.manual_step is not None:
        data["manual_step"] = change.manual_step
    if change.usage is not None:
        data["usage"] = {
            "customers": change.usage.customers,
            "contacts": change.usage.contacts,
            "opportunities": change.usage.opportunities,
        }
    return data


def plan_document(plan: Plan, impact: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The plan as JSON data; `impact` (the weighted pipeline's change) where the target
    can tell it."""
    document: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "changes": [change_document(change) for change in plan.changes],
        "summary": plan.summary(),
        "warnings": [str(warning) for warning in plan.warnings],
        "manual_steps": [change.manual_step for change in plan.manual_steps],
        "unmanaged": {
            kind: [item.name for item in items] for kind, items in plan.unmanaged.items()
        },
        "left_out": {kind: list(names) for kind, names in plan.left_out.items()},
        "attested": [
            {
                "kind": entry.kind,
                "field": entry.field,
                "by": entry.by,
                "at": entry.at,
                "expires": entry.expires,
            }
            for entry in plan.attested
        ],
    }
    if impact is not None:
        document["impact"] = dict(impact)
    return document


def summary_line(plan: Plan) -> str:
    """`Plan: 1 to add, 2 to change, 0 to delete.`, or that there is nothing to do."""
    if plan.empty:
        return "No changes. The target matches the configuration."
    counts = plan.summary()
    return (
        f"Plan: {counts['create']} to add, {counts['update']} to change, "
        f"{counts['delete']} to delete."
    )
