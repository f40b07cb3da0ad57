"""compare: how every tenant differs from the firm's standard, as one matrix."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from crmconf.cli.common import (
    EXIT_CHANGES,
    fail,
    is_standard_output,
    reports_errors,
    write_atomically,
)
from crmconf.cli.tenant_runs import parallel_option, project_option

if TYPE_CHECKING:
    from crmconf.model.configuration import Configuration
    from crmconf.tenants import Tenant
    from crmconf.tenants.compare import Side


@click.command()
@project_option
@click.option(
    "--against",
    metavar="TENANT",
    help="Compare with this tenant's configuration instead of the project's standard:.",
)
@click.option("--live", is_flag=True, help="Compare each tenant's CRM, not its configuration.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "markdown", "json", "html"]),
    default="text",
    show_default=True,
    help="markdown: one pull-request comment; json: the matrix as data (see README); "
    "html: one self-contained page (-o FILE writes it).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Write the comparison to FILE instead of standard output.",
)
@parallel_option("With --live: tenants read at the same time.")
@reports_errors
def compare(
    project: Path | None,
    against: str | None,
    live: bool,
    output_format: str,
    output: Path | None,
    parallel: int,
) -> None:
    """Compare every tenant with the firm's standard: exit 0 if all match, 2 if any differs.

    Never writes; exit 1 on an error. The standard is the configuration the project file
    names under standard:, or the tenant --against names; each tenant's side is its
    configuration, or with --live its CRM.
    """
    from crmconf.model.names import identity
    from crmconf.tenants import load_project, load_tenant_config, run_all
    from crmconf.tenants.compare import compare as compare_all
    from crmconf.tenants.project import PROJECT_FILE

    loaded = load_project(project or Path(PROJECT_FILE))
    others = list(loaded.tenants)
    if against is not None:
        chosen = [tenant for tenant in others if identity(tenant.name) == identity(against)]
        if not chosen:
            names = ", ".join(tenant.name for tenant in others)
            fail(f"--against {against}: no tenant of {loaded.file} has that name ({names})")
        others = [tenant for tenant in others if tenant is not chosen[0]]
        standard = load_tenant_config(chosen[0], os.environ)
        label = f"tenant {chosen[0].name}"
    elif loaded.standard is not None:
        from crmconf.api import load

        standard = load(loaded.standard)
        label = f"the standard ({os.path.relpath(loaded.standard, loaded.file.parent)})"
    else:
        fail(
            f"{loaded.file} names no standard to compare with: add 'standard: PATH' (the "
            "firm's standard configuration) to it, or pass --against TENANT"
        )

    def side(tenant: Tenant) -> Side:
        return _live_side(tenant, standard) if live else _configured_side(tenant)

    outcomes = run_all(others, side, parallel=parallel if live else 1)
    sides = {
        outcome.tenant.name: outcome.result
        if outcome.result is not None
        else _failed(outcome.error)
        for outcome in outcomes
    }
    comparison = compare_all(label, standard.sections, sides)
    from crmconf.tenants import compare_render as render

    renderers = {
        "json": render.render_compare_json,
        "markdown": render.render_compare_markdown,
        "html": render.render_compare_html,
        "text": render.render_compare_text,
    }
    text = renderers[output_format](comparison)
    if output is None or is_standard_output(output):
        click.echo(text, nl=False)
    else:
        write_atomically(output, text)
        click.echo(f"Wrote {output}.", err=True)
    if comparison.errors:
        sys.exit(1)
    if not comparison.matches:
        sys.exit(EXIT_CHANGES)


def _configured_side(tenant: Tenant) -> Side:
    from crmconf.tenants import load_tenant_config
    from crmconf.tenants.compare import Side

    return Side(load_tenant_config(tenant, os.environ).sections)


def _live_side(tenant: Tenant, standard: Configuration) -> Side:
    from crmconf.kinds import KINDS_BY_NAME
    from crmconf.model.kind import Record
    from crmconf.tenants import open_tenant_target
    from crmconf.tenants.compare import Side

    with open_tenant_target(tenant, os.environ) as crm:
        unreadable = crm.capabilities().unreadable()
        kinds = [KINDS_BY_NAME[name] for name in standard.sections if name not in unreadable.kinds]
        state = crm.read(kinds)
    sections = {
        kind.name: [
            Record(
                item.name.strip(),
                {
                    k: v
                    for k, v in item.fields.items()
                    if k not in unreadable.fields.get(kind.name, ())
                },
                protect=bool(item.protected),
            )
            for item in state.of(kind)
        ]
        for kind in kinds
    }
    return Side(sections, frozenset(unreadable.kinds) & set(standard.sections))


def _failed(error: Exception | None) -> Side:
    from crmconf.errors import ConfigError, CrmconfError
    from crmconf.tenants.compare import Side

    if isinstance(error, ConfigError):
        return Side(error=f"invalid configuration: {error.problems[0]}")
    if isinstance(error, CrmconfError):
        return Side(error=str(error))
    return Side(error=f"unexpected {type(error).__name__}: {error}")
