"""A plan's pipeline impact as text (after the plan) and as the JSON plan's "impact" field."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from crmconf.pipeline.forecast import money
from crmconf.pipeline.impact import Impact, Shift
from crmconf.planning.render.tables import aligned

NO_SALES_GROUP = "(in no sales group)"


def signed(amount: Decimal) -> str:
    text = money(amount)
    return f"+{text}" if amount > 0 else text


def render_impact_text(impact: Impact) -> str:
    """Total before → after, then only the sales groups and salespeople that change."""
    stages = ", ".join(json.dumps(title, ensure_ascii=False) for title in impact.stages)
    moved = impact.opportunities
    table = [["", "before", "after", "change"], _cells("total", impact.total)]
    if impact.groups:
        table.append(["by sales group:", "", "", ""])
        table += [_cells(f"  {_group(shift)}", shift) for shift in impact.groups]
    if impact.salespeople:
        table.append(["by salesperson:", "", "", ""])
        table += [_cells(f"  {shift.label}", shift) for shift in impact.salespeople]
    lines = [
        "Pipeline impact (weighted: open opportunities × stage probability):",
        f"  stages changed: {stages}; {moved} opportunit{'y' if moved == 1 else 'ies'} "
        "reweighed or moved",
        "",
        *aligned(table, [False, True, True, True], indent="  "),
    ]
    return "\n".join(lines) + "\n"


def _group(shift: Shift) -> str:
    return NO_SALES_GROUP if shift.label is None else shift.label


def _cells(label: str, shift: Shift) -> list[str]:
    return [label, money(shift.before), money(shift.after), signed(shift.delta)]


def impact_document(impact: Impact) -> dict[str, Any]:
    """Amounts are strings with two decimals, as in the forecast's JSON."""
    return {
        "stages": list(impact.stages),
        "opportunities": impact.opportunities,
        "total": _amounts(impact.total),
        "groups": [{"group": shift.label} | _amounts(shift) for shift in impact.groups],
        "salespeople": [{"login": shift.label} | _amounts(shift) for shift in impact.salespeople],
    }


def _amounts(shift: Shift) -> dict[str, str]:
    return {
        "before": money(shift.before),
        "after": money(shift.after),
        "delta": money(shift.delta),
    }
