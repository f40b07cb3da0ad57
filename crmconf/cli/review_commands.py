"""drift: for scheduled jobs, does the CRM still match the configuration?

Exit 0 when it does, 2 when it drifted, 1 on an error — Terraform's
`-detailed-exitcode`, without a plan to save: drift only reads.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from crmconf.cli.common import (
    EXIT_CHANGES,
    config_argument,
    load_config,
    reports_errors,
    strict_option,
    target_option,
)
from crmconf.cli.environments import environment_options
from crmconf.cli.only import excluded, only_kinds, only_option, selected_kinds

DRIFT_MARKER = "<!-- crmconf-drift -->"


@click.command()
@config_argument
@target_option
@environment_options
@only_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
)
@strict_option
@reports_errors
def drift(
    path: Path,
    target: str | None,
    env: str | None,
    vars_file: Path | None,
    only: str | None,
    exclude: str | None,
    output_format: str,
    strict: bool,
) -> None:
    """Compare the target with PATH: exit 0 when they agree, 2 on drift, 1 on error.

    Never writes. An item the CRM uses that PATH lacks is reported as drift, not
    refused as plan would refuse it: it is shown, never applied.
    """
    from crmconf.api import plan
    from crmconf.targets import open_target, target_url

    config = load_config(path, strict, env, vars_file)
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
        from crmconf.planning.render.text import render_text

        if result.empty:
            click.echo(f"No drift: the target matches {path}.")
        else:
            click.echo(f"Drift: the target differs from {path}. Applying it would change:\n")
            click.echo(render_text(result), nl=False)
    if not result.empty:
        sys.exit(EXIT_CHANGES)
