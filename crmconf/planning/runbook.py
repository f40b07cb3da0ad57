"""Manual steps: what a person clicks in the CRM for a change the target's API cannot make.

The UI paths and labels are the product's own (Swedish), as on its help pages, so
a step can be followed with the admin screen open beside it.
"""

from __future__ import annotations

from typing import Any

from crmconf.model.kind import Kind
from crmconf.planning.changes import Action, Change


def _shown(kind: Kind, field: str, value: Any) -> str:
    labels = kind.value_labels.get(field, {})
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "–"
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return "på" if value else "av"
    label = labels.get(value, value)
    unit = kind.units.get(field)
    return f"{label} {unit}" if unit else str(label)


def _label(kind: Kind, field: str) -> str:
    return kind.labels.get(field, field)


def _entries(kind: Kind, values: dict[str, Any]) -> str:
    return "; ".join(
        f"{_label(kind, field)}: {_shown(kind, field, value)}"
        for field, value in values.items()
        if field not in ("parent", "position")
    )


def manual_step(kind: Kind, change: Change, data_moved: bool) -> str:
    """The instructions for one change, for a person at the CRM's admin pages."""
    where = kind.ui_path
    if kind.is_switch:
        assert change.after is not None
        state = "on" if change.after["enabled"] else "off"
        extra = ""
        if change.after["enabled"] and kind.enable_note:
            extra = f" ({kind.enable_note})"
        return f"{where}: turn {kind.singular} '{change.name}' {state}{extra}."
    if change.action is Action.CREATE:
        assert change.after is not None
        fields = {field: value for field, value in change.after.items() if field != "name"}
        values = {kind.key_field: change.name, **fields}
        step = f"{where}: click Ny, enter {_entries(kind, values)}"
        if change.after.get("parent"):
            step += f" (right-click '{change.after['parent']}' and choose Ny grupp)"
        if "position" in change.after:
            step += f"; place it at position {change.after['position']}"
        return step + "; save."
    if change.action is Action.UPDATE:
        assert change.before is not None and change.after is not None
        parts = []
        for field in change.changed:
            old, new = change.before.get(field), change.after.get(field)
            if field == "name":
                parts.append(f"rename it to '{new}'")
            elif field == "parent":
                parts.append(f"move it under '{new}'" if new else "move it to the top level")
            elif field == "position":
                parts.append(f"move it from position {old} to {new}")
            else:
                parts.append(
                    f"set {_label(kind, field)} from {_shown(kind, field, old)} "
                    f"to {_shown(kind, field, new)}"
                )
        before_name = change.before["name"]
        return f"{where}: open '{before_name}', " + ", ".join(parts) + "; save."
    step = f"{where}: "
    destination = (change.migration or {}).get("move_to")
    if destination is not None and data_moved:
        step += f"once 'crmconf apply' has moved what uses '{change.name}' to '{destination}', "
    elif destination is not None:
        step += (
            f"first move what uses '{change.name}' to '{destination}' "
            f"(select '{change.name}', choose '{destination}', click Flytta kunder); then "
        )
    return step + f"select '{change.name}' and delete it."
