"""The embedded sandbox CRM's own commands."""

from __future__ import annotations

import click

from crmconf.cli.common import (
    reports_errors,
    target_option,
)


@click.group()
def sandbox() -> None:
    """The embedded sandbox CRM (SQLite), for trying crmconf out and for tests."""


@sandbox.command()
@target_option
@click.option("--demo", is_flag=True, help="Add demo users, customers and opportunities.")
@click.option("--reset", is_flag=True, help="Delete an existing sandbox first.")
@reports_errors
def init(target: str | None, demo: bool, reset: bool) -> None:
    """Create the sandbox CRM (and optionally fill it with demo data)."""
    from crmconf.targets import target_url
    from crmconf.targets.sandbox.admin import init_sandbox

    url = init_sandbox(target_url(target), demo=demo, reset=reset)
    click.echo(f"Sandbox ready at {url}{' with demo data' if demo else ''}.")


@sandbox.command()
@target_option
@reports_errors
def upgrade(target: str | None) -> None:
    """Upgrade the sandbox's schema to this crmconf's (one transaction; data kept)."""
    from crmconf.targets import target_url
    from crmconf.targets.sandbox.admin import upgrade_sandbox

    url = target_url(target)
    done = upgrade_sandbox(url)
    if not done:
        click.echo(f"The sandbox at {url} is up to date.")
        return
    click.echo(f"Upgraded the sandbox at {url}:")
    for step in done:
        click.echo(f"  {step}")
