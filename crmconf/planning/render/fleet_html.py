"""The fleet on one page: `plan --all --format html`, a self-contained HTML file.

No network and no external assets, so a CI job can keep it as an artefact: a table of
tenants with their status and counts, a status filter, the weighted forecast change per
tenant as an inline SVG chart, and each tenant's plan folded below. Rendered by Jinja2
with autoescaping: every name from a configuration or a CRM is shown as written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from jinja2 import Environment, PackageLoader, select_autoescape

from crmconf.planning.render.fleet import TenantPlan
from crmconf.planning.render.text import render_text

STATUSES = ("in sync", "changes", "checks due", "error")
"""A tenant's status on the page; `drift --all` says "drift" where a plan says "changes"."""
_CHART_HEIGHT = 220
_BAR = 56
_GAP = 32


@dataclass(frozen=True)
class FleetPage:
    """One tenant's line of the page, with its forecast change (None: not reported)."""

    tenant: TenantPlan
    forecast_change: Decimal | None = None
    requests: int | None = None
    """API requests its plan cost (24SevenOffice); None where no API is counted."""


def status(tenant: TenantPlan, changed: str = "changes") -> str:
    if tenant.plan is None:
        return "error"
    if not tenant.plan.empty:
        return changed
    return "checks due" if tenant.plan.checks else "in sync"


def render_fleet_html(
    lines: Sequence[FleetPage], title: str = "crmconf plan --all", changed: str = "changes"
) -> str:
    environment = Environment(
        loader=PackageLoader("crmconf.planning.render", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        keep_trailing_newline=True,
    )
    rows = []
    for line in lines:
        tenant = line.tenant
        counts = ["–"] * 5
        if tenant.plan is not None:
            summary = tenant.plan.summary()
            counts = [
                str(summary["create"]),
                str(summary["update"]),
                str(summary["delete"]),
                str(len(tenant.plan.manual_steps)),
                str(len(tenant.plan.checks)),
            ]
        forecast = f"{line.forecast_change:+.2f}" if line.forecast_change is not None else "–"
        text = render_text(tenant.plan) if tenant.plan is not None else f"error: {tenant.error}"
        rows.append(
            {
                "name": tenant.name,
                "environment": tenant.environment or "–",
                "status": status(tenant, changed),
                "counts": counts,
                "forecast": forecast,
                "requests": str(line.requests) if line.requests is not None else "–",
                "text": text,
            }
        )
    statuses = tuple(changed if name == "changes" else name for name in STATUSES)
    by_status = {name: sum(row["status"] == name for row in rows) for name in statuses}
    verdict = ", ".join(f"{count} {name}" for name, count in by_status.items() if count)
    return environment.get_template("fleet.html.j2").render(
        title=title,
        verdict=f"{len(rows)} tenants: {verdict}",
        statuses=statuses,
        rows=rows,
        chart=_chart(lines),
    )


def _chart(lines: Sequence[FleetPage]) -> dict[str, object]:
    """Bars above the axis for a rising forecast, below it for a falling one."""
    changes = [line.forecast_change or Decimal(0) for line in lines]
    largest = max((abs(change) for change in changes), default=Decimal(0)) or Decimal(1)
    half = (_CHART_HEIGHT - 40) / 2
    zero = 10 + half
    bars = []
    for index, (line, change) in enumerate(zip(lines, changes, strict=True)):
        height = max(1.0, float(abs(change) / largest) * half)
        direction = "up" if change > 0 else "down" if change < 0 else "flat"
        bars.append(
            {
                "name": line.tenant.name,
                "x": _GAP + index * (_BAR + _GAP),
                "y": zero - height if change > 0 else zero,
                "width": _BAR,
                "height": height,
                "direction": direction,
                "label": f"{change:+.2f}" if line.forecast_change is not None else "not reported",
            }
        )
    return {
        "width": _GAP + len(lines) * (_BAR + _GAP),
        "height": _CHART_HEIGHT,
        "zero": zero,
        "bars": bars,
    }
