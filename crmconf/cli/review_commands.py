"""drift: for scheduled jobs, does the CRM still match the configuration?

Exit 0 when it does, 2 when it drifted, 1 on an error — Terraform's
`-detailed-exitcode`, without a plan to save: drift only reads.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from crmconf.cli import colour
from crmconf.cli.common import (
    EXIT_CHANGES,
    fail,
    load_config,
    reports_errors,
    strict_option,
    target_option,
)
from crmconf.cli.environments import environment_options
from crmconf.cli.only import excluded, only_kinds, only_option, selected_kinds
from crmconf.cli.tenant_runs import (
    SafetyFlags,
    optional_config_argument,
    plan_all,
    refuse_single_run_options,
    require_path,
    tenant_options,
)

if TYPE_CHECKING:
    from crmconf.planning.changes import Change

DRIFT_MARKER = "<!-- crmconf-drift -->"


@click.command()
@optional_config_argument
@target_option
@environment_options
@tenant_options
@only_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "markdown", "json", "html"]),
    default="text",
    show_default=True,
    help="markdown: one pull-request or issue comment; json: the plan document; html: with "
    "--all, one self-contained page for the fleet (-o FILE writes it).",
)
@click.option(
    "-o",
    "--output",
    "out",
    type=click.Path(path_type=Path),
    help="With --all --format html: write the page to FILE.",
)
@strict_option
@reports_errors
def drift(
    path: Path | None,
    target: str | None,
    env: str | None,
    vars_file: Path | None,
    all_tenants: bool,
    project: Path | None,
    parallel: int,
    only: str | None,
    exclude: str | None,
    output_format: str,
    out: Path | None,
    strict: bool,
) -> None:
    """Compare the target with PATH: exit 0 when they agree, 2 on drift, 1 on error.

    Never writes. An item the CRM uses that PATH lacks is reported as drift, not
    refused as plan would refuse it: it is shown, never applied.
    """
    from crmconf.api import plan
    from crmconf.targets import open_target, target_url

    if all_tenants:
        refuse_single_run_options(path=path, target=target, env=env, vars=vars_file)
        code = plan_all(
            project,
            parallel,
            only=only,
            exclude=exclude,
            strict=strict,
            safety=SafetyFlags(False, None, None),
            detailed_exitcode=True,
            output_format=output_format,
            out=out,
            drift=True,
        )
        sys.exit(code)
    if out is not None or output_format == "html":
        fail("-o and --format html are for the fleet's page: give them with --all")
    path = require_path(path)
    # The text report shows the lint warnings itself (when there is drift): no copy on stderr.
    shows_warnings = output_format == "text"
    config = load_config(path, strict, env, vars_file, report_warnings=not shows_warnings)
    with open_target(target_url(target)) as crm:
        result = plan(
            config,
            crm,
            only=only_kinds(config, only),
            exclude=excluded(exclude),
            refuse_orphans=False,
        )
    if output_format == "json":
        from crmconf.planning.render.json import render_json

        click.echo(render_json(result), nl=False)
    elif output_format == "markdown":
        from crmconf.planning.render.markdown import render_markdown

        click.echo(
            render_markdown(
                result,
                title="crmconf drift",
                marker=DRIFT_MARKER,
                only=selected_kinds(only),
                json_command=f"crmconf drift {path} --format json",
            ),
            nl=False,
        )
    else:
        from crmconf.planning.render.text import needs_decision, render_text

        undecided = [change for change in result.changes if needs_decision(change)]
        if result.empty:
            for warning in result.warnings:
                click.echo(colour.warning(str(warning)), err=True)
            click.echo(colour.plan_text(f"No drift: the target matches {path}."))
        elif not undecided:
            header = f"Drift: the target differs from {path}. Applying it would change:\n"
            click.echo(colour.plan_text(header + "\n" + render_text(result)), nl=False)
        else:
            header = (
                f"Drift: the target differs from {path}. Apply would refuse it until each "
                "delete marked below has a removed: decision:\n"
            )
            click.echo(colour.plan_text(header + "\n" + render_text(result)), nl=False)
            click.echo(_decisions(undecided), nl=False)
    if not result.empty:
        sys.exit(EXIT_CHANGES)


def _decisions(undecided: list[Change]) -> str:
    """The `removed:` entries to paste, one per delete that data still forbids."""
    from crmconf.kinds import KINDS_BY_NAME
    from crmconf.planning.planner import removal_hint

    lines = [
        f"\n{len(undecided)} delete(s) need a decision: data uses the item, and crmconf "
        "never orphans data. Keep the item in the configuration, or say where its data goes:"
    ]
    lines.extend(removal_hint(KINDS_BY_NAME[change.kind], change.name) for change in undecided)
    return "\n".join(lines) + "\n"
