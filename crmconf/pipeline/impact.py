"""How a plan would move the weighted sales pipeline — a pure function of plan and pipeline.

A plan changes forecasts when it changes a stage's probability, opens or closes a
stage, or deletes a stage moving its opportunities to another (`removed:` with
`move_opportunities_to`). The impact weighs every opportunity at its stage before
the plan and at its stage after it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from crmconf.kinds import STAGES
from crmconf.model.names import identity
from crmconf.pipeline.forecast import Pipeline, PipelineRow, PipelineStage
from crmconf.planning.changes import Action, Change, Plan

_WEIGHING_FIELDS = frozenset({"probability", "status"})


@dataclass(frozen=True)
class Shift:
    """The weighted pipeline of everyone, of one sales group or of one salesperson."""

    label: str | None
    """A sales group or a login; None for the total, or for owners in no sales group."""
    before: Decimal
    after: Decimal

    @property
    def delta(self) -> Decimal:
        return self.after - self.before


@dataclass(frozen=True)
class Impact:
    stages: tuple[str, ...]
    """The stages whose changes reweigh or move opportunities (titles before the plan)."""
    opportunities: int
    """Opportunities reweighed or moved to another stage."""
    total: Shift
    groups: tuple[Shift, ...]
    """Sales groups (by current membership) whose weighted pipeline changes."""
    salespeople: tuple[Shift, ...]
    """Owners whose weighted pipeline changes, by login."""

    @property
    def touches_pipeline(self) -> bool:
        return bool(self.stages)


def pipeline_impact(plan: Plan, pipeline: Pipeline) -> Impact:
    """The weighted pipeline before and after the plan, in total, per group and per owner."""
    stage_changes = [change for change in plan.changes if change.kind == STAGES.name]
    by_old_title, by_new_title = _stages_after(pipeline.stages, stage_changes)
    moved_to = {
        identity(change.name): identity(change.migration["move_to"])
        for change in stage_changes
        if change.action is Action.DELETE
        and change.migration is not None
        and change.migration.get("move_to") is not None
    }
    current = {identity(stage.title): stage for stage in pipeline.stages}
    weights: list[_Weight] = []
    affected = 0
    for row in pipeline.rows:
        key = identity(row.stage)
        old = current[key]
        new = by_new_title.get(moved_to[key], old) if key in moved_to else by_old_title[key]
        if key in moved_to or _weighing(old) != _weighing(new):
            affected += row.count
        weights.append(_Weight(row, old.weigh(row.amount), new.weigh(row.amount)))
    reweighing = tuple(
        str(change.before["name"])
        for change in stage_changes
        if change.before is not None
        and (
            (change.action is Action.DELETE and identity(change.name) in moved_to)
            or (change.action is Action.UPDATE and set(change.changed) & _WEIGHING_FIELDS)
        )
    )
    # One pass over the weights for every group and owner, not one per sales group.
    by_group: dict[str | None, list[_Weight]] = defaultdict(list)
    by_owner: dict[str, list[_Weight]] = defaultdict(list)
    for weight in weights:
        for group in set(weight.row.groups) or (None,):
            by_group[group].append(weight)
        by_owner[weight.row.owner].append(weight)
    groups = [_shift(group, by_group.get(group, ())) for group in pipeline.sales_groups]
    groups.append(_shift(None, by_group.get(None, ())))
    salespeople = [_shift(owner, by_owner[owner]) for owner in sorted(by_owner)]
    return Impact(
        reweighing,
        affected,
        _shift(None, weights),
        tuple(shift for shift in groups if shift.delta),
        tuple(shift for shift in salespeople if shift.delta),
    )


@dataclass(frozen=True)
class _Weight:
    row: PipelineRow
    before: Decimal
    after: Decimal


def _stages_after(
    stages: Iterable[PipelineStage], changes: Iterable[Change]
) -> tuple[dict[str, PipelineStage], dict[str, PipelineStage]]:
    """Each stage as the plan leaves it: by the identity of its title before the plan (where
    its opportunities are now), and by its title after it (how destinations are named)."""
    by_old_title = {identity(stage.title): stage for stage in stages}
    by_new_title = dict(by_old_title)
    for change in changes:
        if change.before is not None:
            by_new_title.pop(identity(change.before["name"]), None)
    for change in changes:
        if change.after is None:
            continue
        old = by_old_title.get(identity(change.before["name"])) if change.before else None
        probability = change.after.get("probability", old.probability if old else None)
        status = change.after.get("status", old.status if old else None)
        if probability is None or status is None:
            continue  # a field the target cannot read, so the plan does not change it
        stage = PipelineStage(change.name, int(probability), str(status))
        if old is not None:
            by_old_title[identity(old.title)] = stage
        by_new_title[identity(change.name)] = stage
    return by_old_title, by_new_title


def _weighing(stage: PipelineStage) -> tuple[int, bool]:
    return stage.probability, stage.open


def _shift(label: str | None, weights: Iterable[_Weight]) -> Shift:
    before = after = Decimal(0)
    for weight in weights:
        before += weight.before
        after += weight.after
    return Shift(label, before, after)
