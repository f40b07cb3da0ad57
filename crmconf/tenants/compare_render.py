"""A comparison (crmconf.tenants.compare) as text, one Markdown comment, or JSON."""

from __future__ import annotations

import json
from typing import Any

from crmconf.planning.render.markdown import escape
from crmconf.planning.render.tables import aligned
from crmconf.planning.render.text import shown
from crmconf.tenants.compare import Cell, CellState, Comparison

MARKER = "<!-- crmconf-compare -->"
FORMAT_VERSION = 1


def render_compare_text(comparison: Comparison) -> str:
    lines = [f"Compared with {comparison.standard}: {', '.join(comparison.tenants)}", ""]
    for kind in comparison.kinds():
        rows = [row for row in comparison.rows if row.kind == kind]
        table = [["Item", *comparison.tenants]]
        table += [
            [
                row.name,
                *(row.cells[t].state.value if t in row.cells else "–" for t in comparison.tenants),
            ]
            for row in rows
        ]
        lines.append(f"{kind}:")
        lines.extend(aligned(table, [False] * len(table[0]), indent="  "))
        for row in rows:
            for tenant, cell in row.cells.items():
                if cell.state is CellState.DIFFERS:
                    lines.append(f"  {tenant}: {shown(row.name)}: {_differences(cell)}")
        lines.append("")
    for tenant, error in comparison.errors.items():
        lines.append(f"{tenant}: error: {error}")
    if comparison.errors:
        lines.append("")
    lines.append(_verdict(comparison))
    return "\n".join(lines) + "\n"


def render_compare_markdown(comparison: Comparison) -> str:
    lines = [MARKER, f"### crmconf compare: {_verdict(comparison)}", ""]
    lines.append(f"Compared with {escape(comparison.standard)}.")
    lines.append("")
    for kind in comparison.kinds():
        rows = [row for row in comparison.rows if row.kind == kind]
        differing = sum(any(c.state is not CellState.SAME for c in r.cells.values()) for r in rows)
        opened = " open" if differing else ""
        lines.append(
            f"<details{opened}><summary><code>{kind}</code>: {differing} of {len(rows)} items "
            "differ</summary>"
        )
        lines.append("")
        lines.append("| Item | " + " | ".join(escape(t) for t in comparison.tenants) + " |")
        lines.append("|---|" + "---|" * len(comparison.tenants))
        for row in rows:
            cells = [_markdown_cell(row.cells.get(tenant)) for tenant in comparison.tenants]
            lines.append(f"| {escape(row.name)} | " + " | ".join(cells) + " |")
        lines.append("")
        lines.append("</details>")
        lines.append("")
    for tenant, error in comparison.errors.items():
        lines.append(f"- **{escape(tenant)}**: error: {escape(error)}")
    return "\n".join(lines).rstrip("\n") + "\n"


def render_compare_html(comparison: Comparison) -> str:
    """One self-contained page: a matrix per kind (Jinja2, autoescaped)."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    environment = Environment(
        loader=PackageLoader("crmconf.planning.render", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    kinds = []
    for kind in comparison.kinds():
        rows = []
        for row in comparison.rows:
            if row.kind != kind:
                continue
            cells = []
            for tenant in comparison.tenants:
                cell = row.cells.get(tenant)
                state = cell.state.value if cell is not None else "unknown"
                detail = _differences(cell) if cell is not None and cell.differences else ""
                cells.append({"state": state, "text": detail or state, "detail": detail})
            rows.append({"name": row.name, "cells": cells})
        kinds.append({"name": kind, "rows": rows})
    return environment.get_template("compare.html.j2").render(
        verdict=_verdict(comparison),
        standard=comparison.standard,
        tenants=comparison.tenants,
        kinds=kinds,
        errors=sorted(comparison.errors.items()),
    )


def compare_document(comparison: Comparison) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "standard": comparison.standard,
        "tenants": list(comparison.tenants),
        "kinds": [
            {
                "kind": kind,
                "items": [
                    {
                        "name": row.name,
                        "cells": {
                            tenant: _cell_document(cell) for tenant, cell in row.cells.items()
                        },
                    }
                    for row in comparison.rows
                    if row.kind == kind
                ],
            }
            for kind in comparison.kinds()
        ],
        "errors": dict(comparison.errors),
        "matches": comparison.matches,
    }


def render_compare_json(comparison: Comparison) -> str:
    return json.dumps(compare_document(comparison), ensure_ascii=False, indent=2) + "\n"


def _cell_document(cell: Cell) -> dict[str, Any]:
    document: dict[str, Any] = {"state": cell.state.value}
    if cell.differences:
        document["differences"] = {
            name: {"standard": ours, "tenant": theirs}
            for name, (ours, theirs) in cell.differences.items()
        }
    return document


def _differences(cell: Cell) -> str:
    return "; ".join(
        f"{name}: {shown(ours)} → {shown(theirs)}"
        for name, (ours, theirs) in cell.differences.items()
    )


def _markdown_cell(cell: Cell | None) -> str:
    if cell is None:
        return "–"
    if cell.state is CellState.DIFFERS:
        return "**differs**: " + escape(_differences(cell))
    if cell.state is CellState.SAME:
        return "same"
    return f"**{cell.state.value}**"


def _verdict(comparison: Comparison) -> str:
    if comparison.matches:
        return f"every tenant matches {comparison.standard}"
    differing = {
        tenant
        for row in comparison.rows
        for tenant, cell in row.cells.items()
        if cell.state is not CellState.SAME
    }
    text = f"{len(differing)} of {len(comparison.tenants)} tenants differ"
    if comparison.errors:
        text += f", {len(comparison.errors)} could not be compared"
    return text
