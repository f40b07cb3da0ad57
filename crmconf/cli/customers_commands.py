"""customers deleted / restore: the CRM's "Återställa kunder", once it is activated."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING

import click

from crmconf.cli.app import SummaryGroup
from crmconf.cli.common import (
    as_writer,
    confirm_or_refuse,
    fail,
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
        [str(customer.id), customer.name or "–", customer.industry or "–", customer.status or "–"]
        for customer in customers
    ]
    return aligned(rows, [True, False, False, False], indent="  ")


@click.group(cls=SummaryGroup)
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
    help="json: one document listing the deleted customers, for scripts.",
)
@reports_errors
def deleted(target: str | None, output_format: str) -> None:
    """List the deleted customers that can be restored. Never writes."""
    from crmconf.targets import open_target, target_url
    from crmconf.targets.capabilities import Feature

    with open_target(target_url(target)) as crm:
        capabilities = crm.capabilities()
        capabilities.require(Feature.LIST_DELETED_CUSTOMERS, crm.url)
        found = crm.deleted_customers()
        restorable = Feature.RESTORE_CUSTOMERS in capabilities.features
        by_hand = None if restorable else crm.restore_by_hand()
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


class CustomerId(click.ParamType[int]):
    """A customer's id as 'customers deleted' lists it (click's IntRange would answer
    "not a valid integer range")."""

    name = "customer id"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> int:
        if isinstance(value, int):
            return value
        text = str(value)
        if not text.isascii() or not text.isdigit() or int(text) < 1:
            self.fail(
                f"{text!r} is not a customer id: ids are whole numbers from 1, "
                "as 'crmconf customers deleted' lists them",
                param,
                ctx,
            )
        return int(text)


@customers.command()
@click.argument("ids", metavar="ID...", type=CustomerId(), nargs=-1, required=True)
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
        features = crm.capabilities().features
        by_hand = crm.restore_by_hand()
        if Feature.RESTORE_CUSTOMERS not in features and by_hand is not None:
            fail(
                f"{crm.url}: crmconf cannot restore customers here (the API has no restore); "
                f"restore by hand: {by_hand}"
            )
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
