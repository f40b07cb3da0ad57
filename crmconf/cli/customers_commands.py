"""customers deleted / restore: the CRM's "Återställa kunder", once it is activated."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING

import click

from crmconf.cli.common import (
    as_writer,
    confirm_or_refuse,
    reports_errors,
    target_option,
    writer_options,
)

if TYPE_CHECKING:
    from crmconf.targets.customers import DeletedCustomer


def _customers(count: int, adjective: str = "") -> str:
    return f"{count} {adjective}customer{'' if count == 1 else 's'}"


def _table(customers: tuple[DeletedCustomer, ...]) -> list[str]:
    from crmconf.planning.render.tables import aligned

    rows = [["ID", "Name", "Industry", "Status"]]
    rows += [
        [str(customer.id), customer.name, customer.industry or "–", customer.status or "–"]
        for customer in customers
    ]
    return aligned(rows, [True, False, False, False], indent="  ")


@click.group()
def customers() -> None:
    """Deleted customers: list and restore them ("Återställa kunder").

    The service must be activated in the CRM first: features.restore_customers: true.
    """


@customers.command()
@target_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@reports_errors
def deleted(target: str | None, output_format: str) -> None:
    """List the deleted customers that can be restored. Never writes."""
    from crmconf.targets import open_target, target_url
    from crmconf.targets.capabilities import Feature

    with open_target(target_url(target)) as crm:
        crm.capabilities().require(Feature.LIST_DELETED_CUSTOMERS, crm.url)
        found = crm.deleted_customers()
    if output_format == "json":
        document = {"format_version": 1, "customers": [asdict(customer) for customer in found]}
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
    elif not found:
        click.echo("No deleted customers.")
    else:
        click.echo(f"{_customers(len(found), 'deleted ')}:")
        click.echo("\n".join(_table(found)))
        click.echo("Restore with: crmconf customers restore ID...")


@customers.command()
@click.argument("ids", metavar="ID...", type=click.IntRange(min=1), nargs=-1, required=True)
@target_option
@click.option("--yes", "-y", is_flag=True, help="Restore without asking.")
@writer_options
@reports_errors
def restore(
    ids: tuple[int, ...],
    target: str | None,
    yes: bool,
    actor: str | None,
    lock_timeout: float,
) -> None:
    """Restore deleted customers by ID: all of them in one transaction, or none.

    Recorded in the target's history; 'crmconf rollback' undoes it.
    """
    from crmconf.targets import open_target, target_url
    from crmconf.targets.capabilities import Feature

    with as_writer(open_target(target_url(target)), actor, lock_timeout) as crm:
        crm.capabilities().require(Feature.RESTORE_CUSTOMERS, crm.url)
        chosen = crm.deleted_customers(ids)
        click.echo(f"Will restore {_customers(len(chosen), 'deleted ')} in {crm.url}:")
        click.echo("\n".join(_table(chosen)))
        confirm_or_refuse(f"Restore {'them' if len(chosen) != 1 else 'it'}?", yes)
        restored = crm.restore_customers(ids)
    done = f"Restored {_customers(len(restored.customers))}"
    if restored.history_entry is not None:
        entry = restored.history_entry
        done += f" (history entry {entry}; undo: crmconf rollback {entry})"
    click.echo(f"{done}.")
