"""The sandbox's opportunities read as a `Pipeline`: amounts summed per stage and owner."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import Connection, func, select

from crmconf.pipeline.forecast import (
    GroupNode,
    Pipeline,
    PipelineRow,
    PipelineStage,
    sales_groups_by_member,
    sales_groups_in_order,
)
from crmconf.targets.sandbox import schema as s


def read_pipeline(connection: Connection) -> Pipeline:
    """Every stage, the sales groups, and every opportunity (open or closed) summed."""
    stages = tuple(
        PipelineStage(title, probability, status)
        for title, probability, status in connection.execute(
            select(s.stages.c.title, s.stages.c.probability, s.stages.c.status).order_by(
                s.stages.c.position, s.stages.c.id
            )
        )
    )
    groups = _groups(connection)
    counted_in = sales_groups_by_member(groups)
    opportunity = s.opportunities
    query = (
        select(s.stages.c.title, s.users.c.login, func.count(), func.sum(opportunity.c.amount))
        .join_from(opportunity, s.stages, opportunity.c.stage_id == s.stages.c.id)
        .join(s.users, opportunity.c.owner_id == s.users.c.id)
        .group_by(s.stages.c.id, s.stages.c.title, s.users.c.id, s.users.c.login)
        .order_by(s.stages.c.position, s.stages.c.id, s.users.c.login)
    )
    rows = tuple(
        PipelineRow(title, login, counted_in.get(login, ()), count, Decimal(amount))
        for title, login, count, amount in connection.execute(query)
    )
    return Pipeline(stages, sales_groups_in_order(groups), rows)


def _groups(connection: Connection) -> list[GroupNode]:
    groups = s.crm_groups
    members: dict[int, set[str]] = defaultdict(set)
    membership = select(s.group_members.c.group_id, s.users.c.login).join(
        s.users, s.users.c.id == s.group_members.c.user_id
    )
    for group_id, login in connection.execute(membership):
        members[group_id].add(login)
    rows = connection.execute(
        select(groups.c.id, groups.c.name, groups.c.type, groups.c.parent_id).order_by(groups.c.id)
    ).all()
    names = {row.id: row.name for row in rows}
    return [
        GroupNode(
            row.name,
            row.type,
            names.get(row.parent_id) if row.parent_id is not None else None,
            frozenset(members[row.id]),
        )
        for row in rows
    ]
