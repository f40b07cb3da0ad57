"""`--only KIND[,KIND]`, shared by plan, apply and drift: one area of the CRM at a time."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from crmconf.model.configuration import Configuration

only_option = click.option(
    "--only",
    metavar="KIND[,KIND]",
    help="Plan only these kinds, named as in the configuration (industries, sales.stages); "
    "a section such as 'sales' means all its kinds.",
)


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
    return [token for token in only.split(",")]


def selected_kinds(only: str | None) -> tuple[str, ...]:
    """The kind names `--only` stands for, sorted, to show a reviewer (empty without it)."""
    if only is None:
        return ()
    from crmconf.config.selection import select_kinds

    return tuple(sorted(select_kinds(only)))
