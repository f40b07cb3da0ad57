"""The Python API the CLI is a thin layer over: load, plan, apply, export."""

from __future__ import annotations

import os

from crmconf.config.loader import load
from crmconf.exporter import export_text
from crmconf.kinds import ALL_KINDS
from crmconf.model.configuration import Configuration
from crmconf.planning.changes import Plan
from crmconf.planning.planner import kinds_to_read
from crmconf.planning.planner import plan as plan_changes
from crmconf.targets import open_target
from crmconf.targets.base import Target

__all__ = ["apply", "export", "load", "open_target", "plan"]


def plan(config: Configuration | str | os.PathLike[str], target: Target) -> Plan:
    """The changes that would make the target match the configuration. Never writes."""
    if not isinstance(config, Configuration):
        config = load(config)
    state = target.read(kinds_to_read(config))
    return plan_changes(config, state, target.capabilities())


def apply(plan: Plan, target: Target) -> None:
    """Carry out a plan on the target (one transaction on SQL targets)."""
    if not plan.empty:
        target.apply(plan)


def export(target: Target) -> str:
    """The target's settings as a configuration file that plans to no changes."""
    return export_text(target.read(ALL_KINDS), target.url)
