"""`--only` and `--exclude`, shared by plan, apply and drift: one area of the CRM, or some
of its items, at a time (crmconf.config.selection)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import click

if TYPE_CHECKING:
    from crmconf.model.configuration import Configuration

P = ParamSpec("P")
R = TypeVar("R")


def only_option(command: Callable[P, R]) -> Callable[P, R]:
    """--only and --exclude."""
    options = (
        click.option(
            "--only",
            metavar="KIND[:PATTERN],…",
            help="Plan only these kinds, named as in the configuration (industries, "
            "sales.stages; 'sales' means all its kinds), or only their items matching a "
            "shell-style PATTERN (industries:Bygg*, groups:Försäljning/**).",
        ),
        click.option(
            "--exclude",
            metavar="KIND[:PATTERN],…",
            help="Leave these kinds, or their items matching PATTERN, out of the plan.",
        ),
    )
    for option in reversed(options):
        command = option(command)
    return command


def excluded(exclude: str | None) -> list[str] | None:
    """The selectors --exclude gives, for crmconf.api.plan."""
    return None if exclude is None else [exclude]


def only_kinds(config: Configuration, only: str | None) -> list[str] | None:
    """The names `--only` gives, for crmconf.api.plan; warns when the configuration has
    none of the sections they stand for (a bad name is the library's error)."""
    if only is None:
        return None
    from crmconf.config.selection import select_kinds

    if not select_kinds(only) & set(config.sections):
        click.echo(
            f"warning: --only {only}: the configuration has none of these sections, "
            "so nothing is planned",
            err=True,
        )
    return [only]


def selected_kinds(only: str | None) -> tuple[str, ...]:
    """The kind names `--only` stands for, sorted, to show a reviewer (empty without it)."""
    if only is None:
        return ()
    from crmconf.config.selection import select_kinds

    return tuple(sorted(select_kinds(only)))
