"""Plans as text, in the style users know from Terraform: + create, ~ update, - delete."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from crmconf.kinds import ALL_KINDS
from crmconf.planning.changes import Action, Change, Plan
from crmconf.planning.document import summary_line

_SYMBOL = {Action.CREATE: "+", Action.UPDATE: "~", Action.DELETE: "-"}


def shown(value: Any) -> str:
    """A field value as plans show it: JSON-quoted text, `none`, `true`/`false`."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(shown(item) for item in value) + "]"
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _details(change: Change) -> Iterator[str]:
    if change.action is Action.CREATE:
        assert change.after is not None
        for field, value in change.after.items():
            if field != "name":
                yield f"{field}: {shown(value)}"
    elif change.action is Action.UPDATE:
        assert change.before is not None and change.after is not None
        for field in change.changed:
            if field == "name":
                continue  # shown in the item's label
            yield f"{field}: {shown(change.before.get(field))} → {shown(change.after.get(field))}"
    if change.usage is not None and change.usage.total and change.action is not Action.CREATE:
        yield f"used by {change.usage}"
    if change.migration is not None:
        destination = change.migration.get("move_to")
        if destination is not None:
            yield f"what uses it moves to {shown(destination)}"
        else:
            yield "what uses it is detached (cleared)"


def render_text(plan: Plan, sections: Sequence[str] = ()) -> str:
    """The plan grouped by kind, then any extra `sections` (such as the pipeline impact),
    ending with Terraform's summary line."""
    lines: list[str] = []
    for warning in plan.warnings:
        lines.append(f"warning: {warning}")
    if plan.warnings:
        lines.append("")
    for kind in ALL_KINDS:
        changes = [change for change in plan.changes if change.kind == kind.name]
        if not changes:
            continue
        lines.append(f"{kind.name}:")
        for change in changes:
            label = shown(change.name)
            if change.is_rename and change.before is not None:
                label = f"{shown(change.before['name'])} → {label} (renamed in place)"
            manual = "  (manual step)" if change.manual else ""
            lines.append(f"  {_SYMBOL[change.action]} {label}{manual}")
            lines.extend(f"      {detail}" for detail in _details(change))
        lines.append("")
    if plan.unmanaged:
        from crmconf.config.export import unmanaged_yaml

        count = sum(len(items) for items in plan.unmanaged.values())
        lines.append("")
        lines.append(
            f"Left alone ({count}, prune: false) — in the CRM but not in the configuration; "
            "paste to manage them:"
        )
        lines.extend("  " + line for line in unmanaged_yaml(plan.unmanaged).splitlines())
        lines.append("")
    if plan.attested:
        lines.append(
            f"Confirmed by hand ({len(plan.attested)}) — not compared: a person attests them "
            "(crmconf confirm):"
        )
        lines.extend(
            f"  {entry.kind}{'.' + entry.field if entry.field else ''}: confirmed by "
            f"{entry.by} on {entry.at[:10]}, until {entry.expires}"
            for entry in plan.attested
        )
        lines.append("")
    if plan.left_out:
        count = sum(len(names) for names in plan.left_out.values())
        lines.append(f"Left out ({count}, --only / --exclude) — not compared, left as they are:")
        lines.extend(
            f"  {kind}: {', '.join(shown(name) for name in names)}"
            for kind, names in plan.left_out.items()
        )
        lines.append("")
    if plan.manual_steps:
        lines.append(manual_checklist(plan))
    for section in sections:
        lines.append(section.rstrip("\n"))
        lines.append("")
    lines.append(summary_line(plan))
    return "\n".join(lines) + "\n"


def manual_checklist(plan: Plan) -> str:
    """The changes the target cannot make, as a numbered checklist in the order to do them."""
    steps = plan.manual_steps
    lines = [f"Manual steps ({len(steps)}), in this order — the target's API cannot make them:"]
    lines.extend(f"  {number}. {change.manual_step}" for number, change in enumerate(steps, 1))
    lines.append("Then run plan again: it is empty once they are done.")
    return "\n".join(lines) + "\n"
