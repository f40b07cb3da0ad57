"""customers deleted / restore: the CRM's "Återställa kunder", once it is activated."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING

import click

from crmconf.cli.common import (
    as_writer,
    confirm_or_refuse,
    fail,
    reports_errors,
    target_option,
    writer_options,
)

if TYPE_CHECKING:
    from crmconf.targets.base import Target
    from crmconf.targets.customers import CustomerRestorer, DeletedCustomer, DeletedCustomerLister


def _restorer(target: Target) -> CustomerRestorer:
    from crmconf.targets.customers import CustomerRestorer, DeletedCustomerLister

    if isinstance(target, DeletedCustomerLister) and not isinstance(target, CustomerRestorer):
        fail(
            f"{target.url}: crmconf cannot restore customers here (the API has no restore); "
            f"restore by hand: {target.restore_by_hand()}"
        )
    if not isinstance(target, CustomerRestorer):
        fail(f"{target.url} cannot list or restore deleted customers through crmconf")
    return target


def _lister(target: Target) -> CustomerRestorer | DeletedCustomerLister:
    from crmconf.targets.customers import CustomerRestorer, DeletedCustomerLister

    if isinstance(target, CustomerRestorer | DeletedCustomerLister):
        return target
    fail(f"{target.url} cannot list or restore deleted customers through crmconf")


def _customers(count: int, adjective: str = "") -> str:
    return f"{count} {adjective}customer{'' if count == 1 else 's'}"


def _table(customers: tuple[DeletedCustomer, ...]) -> list[str]:
    from crmconf.planning.render.tables import aligned

    rows = [["ID", "Name", "Industry", "Status"]]
    rows += [
        [str(customer.id), customer.name or "–", customer.industry or "–", customer.status or "–"]
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
    from crmconf.targets.customers import CustomerRestorer

    with open_target(target_url(target)) as crm:
        lister = _lister(crm)
        found = lister.deleted_customers()
        by_hand = None if isinstance(lister, CustomerRestorer) else lister.restore_by_hand()
    if output_format == "json":
        document: dict[str, object] = {
            "format_version": 1,
            "customers": [asdict(customer) for customer in found],
        }
        if by_hand is not None:
            document["restore_by_hand"] = by_hand
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    if not found:
        click.echo("No deleted customers.")
        return
    click.echo(f"{_customers(len(found), 'deleted ')}:")
    click.echo("\n".join(_table(found)))
    if by_hand is None:
        click.echo("Restore with: crmconf customers restore ID...")
    else:
        click.echo(
            "crmconf cannot restore these (the API has no restore); restore by hand: " + by_hand
        )


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

    with as_writer(open_target(target_url(target)), actor, lock_timeout) as crm:
        restorer = _restorer(crm)
        chosen = restorer.deleted_customers(ids)
        click.echo(f"Will restore {_customers(len(chosen), 'deleted ')} in {crm.url}:")
        click.echo("\n".join(_table(chosen)))
        confirm_or_refuse(f"Restore {'them' if len(chosen) != 1 else 'it'}?", yes)
        restored = restorer.restore_customers(ids)
    done = f"Restored {_customers(len(restored.customers))}"
    if restored.history_entry is not None:
        entry = restored.history_entry
        done += f" (history entry {entry}; undo: crmconf rollback {entry})"
    click.echo(f"{done}.")
