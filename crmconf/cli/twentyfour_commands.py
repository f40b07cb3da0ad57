"""`crmconf 24so`: look up what a 24SevenOffice configuration and URL refer to by number."""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

import click

from crmconf.cli.app import SummaryGroup
from crmconf.cli.common import fail, reports_errors, target_option
from crmconf.planning.render.tables import one_line

if TYPE_CHECKING:
    from crmconf.targets.twentyfour.models import ClientInformation, Identity
    from crmconf.targets.twentyfour.target import TwentyFourTarget


@click.group(name="24so", cls=SummaryGroup)
def twentyfour() -> None:
    """24SevenOffice: the users and identities a configuration and URL refer to."""


@twentyfour.command()
@target_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "aliases"]),
    default="text",
    show_default=True,
    help="aliases: a starting 'users:' map for a tenant in crmconf.yaml (alias: contact id).",
)
@reports_errors
def users(target: str | None, output_format: str) -> None:
    """List users: the contact id group `members` are written as, and the name."""
    crm = _open(target)
    with crm:
        listed = sorted(crm.users(), key=lambda user: user.name.casefold())
    known = [user for user in listed if user.contact_id is not None]
    if output_format == "aliases":
        import yaml

        taken: set[str] = set()
        aliases = {
            _alias(user.name, taken): user.contact_id
            for user in known
            if user.contact_id is not None
        }
        click.echo("users:")
        for alias, contact in aliases.items():
            line = yaml.safe_dump({alias: contact}, allow_unicode=True).strip()
            click.echo(f"  {line}")
        return
    for user in known:  # names are the account's data: one line each, whatever they hold
        click.echo(f"{user.contact_id}\t{one_line(user.name)}")


def _alias(name: str, taken: set[str]) -> str:
    """A short alias from a person's name: the first name in lower case, made unique."""
    first = name.split()[0] if name.split() else "user"
    return _tenant_name(first, taken)


@twentyfour.command()
@target_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "tenants"]),
    default="text",
    show_default=True,
    help="tenants: crmconf.yaml tenant entries, each pinned to its organisation number.",
)
@reports_errors
def identities(target: str | None, output_format: str) -> None:
    """List the company accounts the login may act for: URL, name, organisation number."""
    crm = _open(target)
    with crm:
        listed = crm.identities_with_clients()
    if output_format == "tenants":
        click.echo(_tenant_entries(listed), nl=False)
        return
    for identity, client in listed:
        marks = [
            mark
            for mark, on in (("current", identity.is_current), ("default", identity.is_default))
            if on
        ]
        suffix = f"\t({', '.join(marks)})" if marks else ""
        name = client.name or identity.client_name or ""
        number = client.organization_number or "-"
        click.echo(f"24so://{identity.id}\t{one_line(name)}\torg {one_line(number)}{suffix}")


def _tenant_entries(listed: list[tuple[Identity, ClientInformation]]) -> str:
    """Ready-to-paste `tenants:` entries; config paths follow the client's name."""
    import yaml

    entries = []
    taken: set[str] = set()
    for identity, client in listed:
        name = _tenant_name(client.name or identity.client_name or identity.id, taken)
        entry: dict[str, str] = {
            "name": name,
            "target": f"24so://{identity.id}",
            "config": f"companies/{name}",
        }
        if client.organization_number:
            entry["organization_number"] = client.organization_number
        entries.append(entry)
    return yaml.safe_dump(
        {"tenants": entries}, sort_keys=False, allow_unicode=True, default_flow_style=False
    )


def _tenant_name(client_name: str, taken: set[str]) -> str:
    """A lower-case, hyphenated tenant name, unique within the listing."""
    ascii_name = unicodedata.normalize("NFKD", client_name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^0-9a-z]+", "-", ascii_name.casefold()).strip("-") or "client"
    name, number = base, 2
    while name in taken:
        name, number = f"{base}-{number}", number + 1
    taken.add(name)
    return name


def _open(target: str | None) -> TwentyFourTarget:
    """--target, else $CRMCONF_TARGET if it is a 24so:// URL, else 24so://."""
    from crmconf.targets import target_url
    from crmconf.targets.twentyfour.target import SCHEME, TwentyFourTarget

    url = target_url(target)
    if not url.lower().startswith(f"{SCHEME}:"):
        if target is not None:
            fail(f"--target {target} is not a 24SevenOffice URL: pass --target {SCHEME}://")
        url = f"{SCHEME}://"
    return TwentyFourTarget.open(url)
