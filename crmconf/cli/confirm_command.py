"""confirm: record that a person checked by hand what the target cannot read."""

from __future__ import annotations

from pathlib import Path

import click

from crmconf.cli.common import config_argument, fail, load_config, reports_errors, target_option
from crmconf.cli.environments import environment_options


@click.command()
@config_argument
@target_option
@environment_options
@click.option(
    "--kinds",
    metavar="KIND[,KIND]",
    help="Confirm only these kinds' checks (default: every check of the plan).",
)
@click.option("--by", "by", metavar="NAME", help="Who checked (default: the OS user).")
@click.option(
    "--days",
    type=click.IntRange(min=1, max=3660),
    default=90,
    show_default=True,
    help="How long the confirmation holds.",
)
@reports_errors
def confirm(
    path: Path,
    target: str | None,
    env: str | None,
    vars_file: Path | None,
    kinds: str | None,
    by: str | None,
    days: int,
) -> None:
    """Record that you checked by hand, in the CRM, what the target cannot read.

    Plans then leave those checks out until the configuration of what was checked changes
    or the confirmation expires. An attestation, not drift detection: crmconf cannot see
    whether anyone changed those settings since.
    """
    from crmconf.config.selection import select_kinds
    from crmconf.targets import open_target, target_url
    from crmconf.targets.base import Target
    from crmconf.targets.confirmations import confirmation, open_store, summary
    from crmconf.targets.visibility import with_checks

    config = load_config(path, strict=False, env=env, vars_file=vars_file)
    with open_target(target_url(target)) as crm:
        _, checks = with_checks(config, crm.capabilities().unreadable(), crm.url)
        url = crm.resolved_url
    if kinds is not None:
        wanted = select_kinds(kinds, "--kinds")
        lacking = sorted(wanted - {check.kind for check in checks})
        if lacking:
            fail(
                f"--kinds: nothing to confirm for {', '.join(lacking)}: {path} does not manage "
                f"it, or {url} reads it (then plans compare it); confirm only what a plan "
                "lists as a check"
            )
        checks = tuple(check for check in checks if check.kind in wanted)
    if not checks:
        fail(f"nothing to confirm: {url} reads everything {path} manages, and plans compare it")
    who = by or Target.actor
    if not who.isprintable() or not who.strip():
        fail("--by: give the name of the person who checked, on one line")
    entries = [
        confirmation(url, check.kind, check.field, check.digest, who, days) for check in checks
    ]
    store = open_store()
    if not store.shared:
        click.echo(
            f"warning: the confirmation is kept in {store.where}, on this machine only: set "
            "CRMCONF_STATE=postgresql://… to share it with every runner",
            err=True,
        )
    store.record(entries)
    click.echo(f"Recorded in {store.where}: {summary(entries)}.")
