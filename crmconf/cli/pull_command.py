"""`crmconf pull`: bring changes made in the CRM by hand back into the configuration's
files, in place, each written where its item is (crmconf.planning.pull)."""

from __future__ import annotations

import difflib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from crmconf.cli import colour
from crmconf.cli.common import fail, load_config, reports_errors, target_option
from crmconf.cli.environments import environment_options
from crmconf.cli.only import excluded, only_kinds, only_option
from crmconf.cli.tenant_runs import (
    optional_config_argument,
    project_option,
    refuse_single_run_options,
)

if TYPE_CHECKING:
    from crmconf.api import PullPlan
    from crmconf.model.configuration import Configuration
    from crmconf.planning.pull import Proposal
    from crmconf.targets.base import Target

_ANSWERS = "[y,n,a,q,?]"
_HELP = (
    "y - write this change\n"
    "n - leave it\n"
    "a - write this change and every one after it\n"
    "q - leave this one and every one after it (what you accepted is written)\n"
    "? - this help"
)


@click.command()
@optional_config_argument
@target_option
@environment_options
@click.option(
    "--tenant",
    metavar="NAME",
    help="A tenant of the project file: its configuration, environment, variables, target, "
    "credentials and user aliases (then PATH is not given).",
)
@project_option
@only_option
@click.option(
    "--interactive",
    "-i",
    is_flag=True,
    help="Offer each change on its own: y, n, a (all from here), q (quit), like git add -p.",
)
@click.option(
    "--dry-run", is_flag=True, help="Write nothing: show the changes and the files' diff."
)
@reports_errors
def pull(
    path: Path | None,
    target: str | None,
    env: str | None,
    vars_file: Path | None,
    tenant: str | None,
    project: Path | None,
    only: str | None,
    exclude: str | None,
    interactive: bool,
    dry_run: bool,
) -> None:
    """Bring what the CRM holds back into PATH's files, in place, keeping their comments.

    Each difference is written where its item is defined (the base or the overlay that
    wrote the value); new items are added to the list they belong to. A rename made in
    the CRM (same id, new name) becomes a rename with renamed_from. What the target
    cannot read, and renames or removals the configuration declares but were not
    applied yet, are left alone and listed. Afterwards plan is empty for what was
    pulled. Never writes to the target.
    """
    from crmconf.api import pull as pull_target
    from crmconf.api import write_pull
    from crmconf.targets import open_target, target_url

    if interactive and dry_run:
        fail("--interactive and --dry-run do not go together: --dry-run asks nothing")
    if tenant is not None:
        refuse_single_run_options("--tenant", path=path, target=target, env=env, vars=vars_file)
        config, crm = _tenant(project, tenant)
        path = Path(config.source.path if config.source else tenant)
        env = config.source.env if config.source else None
    else:
        if project is not None:
            fail("--project names the project file of --tenant: give --tenant NAME too")
        if path is None:
            fail("give the configuration PATH, or --tenant NAME for a tenant of crmconf.yaml")
        config = load_config(path, False, env, vars_file)
        crm = open_target(target_url(target))
    with crm:
        pulled = pull_target(config, crm, only=only_kinds(config, only), exclude=excluded(exclude))
        heading = crm.account_heading()
    if heading:
        click.echo(heading)
    _report_left_alone(pulled)
    if not pulled.proposals:
        click.echo(f"Nothing to pull: {path} says what the target holds.")
        return
    accepted = _choose(pulled) if interactive else list(pulled.proposals)
    if not interactive:
        for proposal in pulled.proposals:
            click.echo(colour.plan_text(proposal.describe()))
    if dry_run:
        _show_diff(pulled, accepted)
        click.echo(f"\n{_count(len(accepted))} to pull; nothing was written (--dry-run).")
        return
    changed = write_pull(pulled, accepted)
    if not changed:
        click.echo("Nothing was written.")
        return
    click.echo(
        f"\nPulled {_count(len(accepted))} into {len(changed)} file(s): "
        + ", ".join(str(file) for file in changed)
    )
    _warn_shared(pulled, changed, env)


def _tenant(project: Path | None, name: str) -> tuple[Configuration, Target]:
    """A tenant's configuration (with its user aliases and rules) and its opened CRM."""
    from crmconf.tenants import load_project
    from crmconf.tenants.project import PROJECT_FILE
    from crmconf.tenants.runner import load_tenant_config, open_tenant_target

    loaded = load_project(project or Path(PROJECT_FILE))
    found = next((tenant for tenant in loaded.tenants if tenant.name == name), None)
    if found is None:
        names = ", ".join(tenant.name for tenant in loaded.tenants)
        fail(f"--tenant {name}: no tenant of {loaded.file} has that name ({names})")
    config = load_tenant_config(found, os.environ)
    return config, open_tenant_target(found, os.environ)


def _report_left_alone(pulled: PullPlan) -> None:
    for note in pulled.found.left_alone:
        click.echo(colour.warning(f"left alone: {note}"), err=True)


def _choose(pulled: PullPlan) -> list[Proposal]:
    """Ask about each proposal; Ctrl-C writes nothing, end of input is a quit."""
    accepted: list[Proposal] = []
    everything = False
    for number, proposal in enumerate(pulled.proposals, 1):
        click.echo(colour.plan_text(proposal.describe()))
        if everything:
            accepted.append(proposal)
            continue
        while True:
            click.echo(
                f"Pull this change ({number}/{len(pulled.proposals)}) {_ANSWERS}? ", nl=False
            )
            try:
                line = sys.stdin.readline()
            except KeyboardInterrupt:
                fail("cancelled; no file was changed")
            answer = line.strip().lower()
            if not sys.stdin.isatty():
                click.echo(_shown_answer(answer))  # answers from a pipe show in the log
            if not line:  # end of input
                return accepted
            if answer in ("y", "n", "a", "q"):
                break
            click.echo(_HELP)
        if answer == "q":
            return accepted
        if answer in ("y", "a"):
            accepted.append(proposal)
        everything = answer == "a"
    return accepted


def _shown_answer(answer: str) -> str:
    """An answer read from a pipe, as the log shows it: short, no control characters."""
    printable = "".join(c if c.isprintable() else "?" for c in answer[:20])
    return printable + ("…" if len(answer) > 20 else "")


def _show_diff(pulled: PullPlan, accepted: list[Proposal]) -> None:
    from crmconf.api import checked_pull

    for file, (before, after) in checked_pull(pulled, accepted).items():
        diff = difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"a/{file}",
            tofile=f"b/{file}",
        )
        sys.stdout.write("".join(diff))


def _warn_shared(pulled: PullPlan, changed: list[Path], env: str | None) -> None:
    """A base file edited while pulling one environment changes what every other sees."""
    if env is None:
        return
    from crmconf.config.files import ENVIRONMENTS

    shared = [file for file in changed if ENVIRONMENTS not in Path(file).parts]
    if shared:
        click.echo(
            colour.warning(
                f"note: {', '.join(map(str, shared))} is the base every environment shares: "
                "plan the other environments too"
            ),
            err=True,
        )


def _count(number: int) -> str:
    return f"{number} change{'s' if number != 1 else ''}"
