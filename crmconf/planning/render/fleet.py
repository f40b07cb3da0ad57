"""The plans of every tenant (`plan --all`) as one JSON document or one pull-request comment.

A fleet run in CI needs one artefact and one comment for all its tenants: a summary
row per tenant, then each tenant's plan (the same JSON document or Markdown as a plan of
one), or the error that stopped it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from crmconf.planning.changes import Plan
from crmconf.planning.document import FORMAT_VERSION, plan_document
from crmconf.planning.render.markdown import COMMENT_LIMIT, escape, render_markdown

MARKER = "<!-- crmconf-plan-all -->"
_MIN_SECTION = 2_000
"""Characters a tenant's folded plan may take at least, however many tenants share a comment."""


@dataclass(frozen=True)
class TenantPlan:
    """One tenant's line of a fleet report: its plan, or the error that stopped it."""

    name: str
    environment: str | None
    target: str
    plan: Plan | None
    error: str | None = None
    changed: str = "changes"
    """What a tenant whose plan is not empty is: "changes", or for drift --all "drift"."""

    @property
    def status(self) -> str:
        if self.plan is None:
            return "error"
        if self.plan.empty:
            return "no drift" if self.changed == "drift" else "no changes"
        return self.changed


def fleet_document(tenants: Sequence[TenantPlan]) -> dict[str, Any]:
    """Every tenant's plan document (or error) and a summary, as JSON data."""
    return {
        "format_version": FORMAT_VERSION,
        "tenants": [
            {
                "name": tenant.name,
                "environment": tenant.environment,
                "target": tenant.target,
                "status": tenant.status,
                "plan": plan_document(tenant.plan) if tenant.plan is not None else None,
                "error": tenant.error,
            }
            for tenant in tenants
        ],
        "summary": {
            "tenants": len(tenants),
            "changes": sum(tenant.plan is not None and not tenant.plan.empty for tenant in tenants),
            "errors": sum(tenant.status == "error" for tenant in tenants),
        },
    }


def render_fleet_json(tenants: Sequence[TenantPlan]) -> str:
    return json.dumps(fleet_document(tenants), ensure_ascii=False, indent=2) + "\n"


def render_fleet_markdown(tenants: Sequence[TenantPlan], limit: int = COMMENT_LIMIT) -> str:
    """One comment: a summary table, then each tenant's plan folded, within `limit`."""
    changed = sum(tenant.plan is not None and not tenant.plan.empty for tenant in tenants)
    failed = sum(tenant.status == "error" for tenant in tenants)
    heading = f"### crmconf plan --all: {changed} of {len(tenants)} tenants with changes"
    if failed:
        heading += f", {failed} failed"
    lines = [MARKER, heading, "", "| Tenant | Env | Add | Change | Delete | Manual | Result |"]
    lines.append("|---|---|--:|--:|--:|--:|---|")
    for tenant in tenants:
        counts = ["–"] * 4
        if tenant.plan is not None:
            totals = tenant.plan.summary()
            counts = [str(totals[action]) for action in ("create", "update", "delete")]
            counts.append(str(len(tenant.plan.manual_steps)))
        result = tenant.status if tenant.plan is not None else f"error: {tenant.error or ''}"
        environment = escape(tenant.environment) if tenant.environment else "–"
        lines.append(
            f"| {escape(tenant.name)} | {environment} | " + " | ".join(counts) + f" | "
            f"{escape(result.splitlines()[0] if result else '')} |"
        )
    head = "\n".join(lines) + "\n"
    budget = max(_MIN_SECTION, (limit - len(head)) // max(len(tenants), 1) - 100)
    sections = []
    for tenant in tenants:
        summary = f"<details><summary><code>{escape(tenant.name)}</code>: {tenant.status}</summary>"
        if tenant.plan is not None:
            body = render_markdown(
                tenant.plan,
                title=tenant.name,
                marker="",
                json_command="crmconf plan --all --format json",
                limit=budget,
            ).strip("\n")
        else:
            # Shown as written: no fence inside it can close the block early.
            error = (tenant.error or "").replace("`", "\u02cb")
            body = f"```\n{error}\n```"
        sections.append(f"{summary}\n\n{body}\n\n</details>\n")
    return head + "\n" + "\n".join(sections)
