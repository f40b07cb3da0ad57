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


def limit_to(config: Configuration, only: str | None) -> Configuration:
    """The configuration limited to the kinds `--only` names (all of it without `--only`)."""
    if only is None:
        return config
    from crmconf.config.selection import select_kinds

    kinds = select_kinds(only)
    if not kinds & set(config.sections):
        click.echo(
            f"warning: --only {only}: the configuration has none of these sections, "
            "so nothing is planned",
            err=True,
        )
    return config.only(set(kinds))


def selected_kinds(only: str | None) -> tuple[str, ...]:
    """The kind names `--only` stands for, sorted, to show a reviewer (empty without it)."""
    if only is None:
        return ()
    from crmconf.config.selection import select_kinds

    return tuple(sorted(select_kinds(only)))
