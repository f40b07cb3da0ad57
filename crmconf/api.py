"""The Python API the CLI is a thin layer over: load, plan, apply, export, forecast."""

from __future__ import annotations

import os
from dataclasses import replace

from crmconf.config.export import export_text
from crmconf.config.loader import load
from crmconf.errors import TargetError
from crmconf.kinds import ALL_KINDS
from crmconf.model.collector import paused
from crmconf.model.configuration import Configuration
from crmconf.pipeline.forecast import Breakdown, Forecast, PipelineSource
from crmconf.pipeline.forecast import forecast as forecast_pipeline
from crmconf.pipeline.impact import Impact, pipeline_impact
from crmconf.planning.changes import Plan
from crmconf.planning.planner import kinds_to_read
from crmconf.planning.planner import plan as plan_changes
from crmconf.targets import STATE_VARIABLE, open_target
from crmconf.targets.base import Target
from crmconf.targets.visibility import without_unreadable

__all__ = ["apply", "export", "forecast", "impact", "load", "open_target", "plan"]


def plan(
    config: Configuration | str | os.PathLike[str],
    target: Target,
    *,
    refuse_orphans: bool = True,
) -> Plan:
    """The changes that would make the target match the configuration. Never writes.

    `refuse_orphans=False` is for reports (drift): a delete the CRM's data forbids is
    then shown, not refused; such a plan must never be applied.
    """
    if not isinstance(config, Configuration):
        config = load(config)
    # What the target cannot read is not compared but listed as checks for a person.
    visible, checks = without_unreadable(config, target.unreadable(), target.url)
    with paused():
        state = target.read(kinds_to_read(visible))
        result = plan_changes(visible, state, target.capabilities(), refuse_orphans=refuse_orphans)
    if not checks:
        return result
    return replace(result, warnings=(*result.warnings, *checks), checks=checks)


def apply(plan: Plan, target: Target) -> None:
    """Carry out a plan on the target (one transaction on SQL targets).

    With $CRMCONF_STATE set, a target keeping no history of its own (24SevenOffice) is
    applied under that state backend's lock and the apply recorded in its history
    (crmconf.targets.state_backend)."""
    if plan.empty:
        return
    if not os.environ.get(STATE_VARIABLE):
        target.apply(plan)
        return
    from crmconf.targets.state_backend import coordinated  # loads SQLAlchemy only when asked for

    with coordinated(target, plan):
        target.apply(plan)


def export(target: Target) -> str:
    """The target's settings as a configuration file that plans to no changes."""
    return export_text(target.read(ALL_KINDS), target.url)


def forecast(target: Target, by: Breakdown | str = Breakdown.STAGE) -> Forecast:
    """The weighted pipeline of the target's open opportunities, by stage, salesperson or
    sales group. Never writes."""
    if not isinstance(target, PipelineSource):
        raise TargetError(f"{target.url} cannot report its opportunities to crmconf")
    return forecast_pipeline(target.pipeline(), Breakdown(by))


def impact(plan: Plan, target: Target) -> Impact | None:
    """How applying the plan would change the weighted pipeline; None where the target
    cannot report its opportunities. Never writes."""
    if not isinstance(target, PipelineSource):
        return None
    return pipeline_impact(plan, target.pipeline())
