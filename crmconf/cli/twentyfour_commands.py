"""`crmconf 24so`: look up what a 24SevenOffice configuration and URL refer to by number."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from crmconf.cli.app import SummaryGroup
from crmconf.cli.common import fail, reports_errors, target_option

if TYPE_CHECKING:
    from crmconf.targets.twentyfour.target import TwentyFourTarget


@click.group(name="24so", cls=SummaryGroup)
def twentyfour() -> None:
    """24SevenOffice: the users and identities a configuration and URL refer to."""


@twentyfour.command()
@target_option
@reports_errors
def users(target: str | None) -> None:
    """List users: the contact id group `members` are written as, and the name."""
    crm = _open(target)
    with crm:
        for user in sorted(crm.users(), key=lambda user: user.name.casefold()):
            if user.contact_id is not None:
                click.echo(f"{user.contact_id}\t{user.name}")


@twentyfour.command()
@target_option
@reports_errors
def identities(target: str | None) -> None:
    """List the company accounts the login may act for, as 24so://IDENTITY-ID URLs."""
    crm = _open(target)
    with crm:
        for identity in crm.identities():
            marks = [
                mark
                for mark, on in (("current", identity.is_current), ("default", identity.is_default))
                if on
            ]
            suffix = f"\t({', '.join(marks)})" if marks else ""
            click.echo(f"24so://{identity.id}\t{identity.client_name or ''}{suffix}")


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
