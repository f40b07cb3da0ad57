"""The weighted sales pipeline: open opportunities' amounts weighted by their stage's probability.

Pure functions over plain values. A target reads its opportunities into a `Pipeline`
(amounts summed per stage and owner); `forecast` breaks it down by stage, salesperson
or sales group. Money stays `Decimal` throughout and is rounded only when shown.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

OPEN_STATUSES = frozenset({"open", "open_won"})
"""Stage statuses whose opportunities are still forecast; closed ones are won or lost."""

_CENT = Decimal("0.01")


def money(amount: Decimal) -> str:
    """An amount as shown: two decimals, rounded half up, no thousands separator."""
    return str(amount.quantize(_CENT, rounding=ROUND_HALF_UP))


def weighted(amount: Decimal, probability: int) -> Decimal:
    """An amount weighted by a probability in percent, exactly."""
    return amount * probability / 100


@dataclass(frozen=True)
class PipelineStage:
    """A stage as forecasts see it."""

    title: str
    probability: int
    status: str

    @property
    def open(self) -> bool:
        return self.status in OPEN_STATUSES

    def weigh(self, amount: Decimal) -> Decimal:
        """What an amount at this stage adds to the weighted pipeline (nothing once closed)."""
        return weighted(amount, self.probability) if self.open else Decimal(0)


@dataclass(frozen=True)
class PipelineRow:
    """The opportunities (on customers and on projects) one owner has at one stage."""

    stage: str
    """The stage's title."""
    owner: str
    """The owner's login."""
    groups: tuple[str, ...]
    """The sales groups the owner counts in: those the owner is a member of and every
    sales group above them in the tree."""
    count: int
    amount: Decimal


@dataclass(frozen=True)
class Pipeline:
    """Every opportunity of a CRM, open or closed, summed per stage and owner."""

    stages: tuple[PipelineStage, ...]
    """Every stage, in pipeline order."""
    sales_groups: tuple[str, ...]
    """Every group of type sales, parents before their subgroups."""
    rows: tuple[PipelineRow, ...]


@dataclass(frozen=True)
class GroupNode:
    """A group of the CRM's tree, as the roll-up needs it."""

    name: str
    type: str
    parent: str | None
    members: frozenset[str]


def sales_groups_in_order(groups: Sequence[GroupNode]) -> tuple[str, ...]:
    """The sales groups, each parent before its subgroups, siblings in the given order."""
    children: dict[str | None, list[GroupNode]] = defaultdict(list)
    known = {group.name for group in groups}
    for group in groups:
        children[group.parent if group.parent in known else None].append(group)
    ordered: list[GroupNode] = []
    pending = list(reversed(children[None]))
    while pending:
        group = pending.pop()
        ordered.append(group)
        pending.extend(reversed(children[group.name]))
    return tuple(group.name for group in ordered if group.type == "sales")


def sales_groups_by_member(groups: Sequence[GroupNode]) -> dict[str, tuple[str, ...]]:
    """Per login, the sales groups counting that user: a group counts its own members
    and those of all its subgroups, each user once."""
    parents = {group.name: group.parent for group in groups}
    types = {group.name: group.type for group in groups}
    counted: dict[str, set[str]] = defaultdict(set)
    for group in groups:
        above: str | None = group.name
        seen: set[str] = set()
        while above is not None and above in parents and above not in seen:
            seen.add(above)
            if types[above] == "sales":
                for login in group.members:
                    counted[login].add(above)
            above = parents[above]
    order = sales_groups_in_order(groups)
    return {
        login: tuple(name for name in order if name in names) for login, names in counted.items()
    }


class Breakdown(StrEnum):
    """What a forecast's rows are."""

    STAGE = "stage"
    SALESPERSON = "salesperson"
    GROUP = "group"


@dataclass(frozen=True)
class Figures:
    """Open opportunities: how many, their amount, and that amount weighted."""

    count: int = 0
    amount: Decimal = Decimal(0)
    weighted: Decimal = Decimal(0)

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            self.count + other.count,
            self.amount + other.amount,
            self.weighted + other.weighted,
        )


@dataclass(frozen=True)
class ForecastRow:
    label: str | None
    """The stage title, owner login or sales group; None for owners in no sales group."""
    figures: Figures
    probability: int | None = None
    """For rows by stage: the stage's probability."""


@dataclass(frozen=True)
class Forecast:
    by: Breakdown
    rows: tuple[ForecastRow, ...]
    total: Figures
    """Every open opportunity once. By group the rows overlap (a parent group includes its
    subgroups), so the total is not their sum."""


def forecast(pipeline: Pipeline, by: Breakdown = Breakdown.STAGE) -> Forecast:
    """The weighted pipeline of the open opportunities, one row per stage, owner or group."""
    stages = {stage.title: stage for stage in pipeline.stages}
    open_rows = [
        (row, _figures(row, stages[row.stage])) for row in pipeline.rows if stages[row.stage].open
    ]
    total = _sum(figures for _row, figures in open_rows)
    if by is Breakdown.STAGE:
        rows = tuple(
            ForecastRow(
                stage.title,
                _sum(figures for row, figures in open_rows if row.stage == stage.title),
                stage.probability,
            )
            for stage in pipeline.stages
            if stage.open
        )
    elif by is Breakdown.SALESPERSON:
        owners = sorted({row.owner for row, _figures in open_rows})
        rows = tuple(
            ForecastRow(owner, _sum(figures for row, figures in open_rows if row.owner == owner))
            for owner in owners
        )
    else:
        rows = tuple(
            ForecastRow(group, _sum(figures for row, figures in open_rows if group in row.groups))
            for group in pipeline.sales_groups
        )
        outside = [figures for row, figures in open_rows if not row.groups]
        if outside:
            rows += (ForecastRow(None, _sum(outside)),)
    return Forecast(by, rows, total)


def _figures(row: PipelineRow, stage: PipelineStage) -> Figures:
    return Figures(row.count, row.amount, stage.weigh(row.amount))


def _sum(figures: Iterable[Figures]) -> Figures:
    return sum(figures, Figures())
