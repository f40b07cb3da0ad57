"""Commands that need no plan: validate, export, schema."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from crmconf.cli.common import (
    load_config,
    reports_errors,
    strict_option,
    target_option,
    write_atomically,
)
from crmconf.cli.environments import environment_options, validate_environments

if TYPE_CHECKING:
    from crmconf.config.verdicts import Verdict


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@strict_option
@environment_options
@click.option(
    "--no-cache",
    is_flag=True,
    help="Validate in full even if these exact files validated before ($CRMCONF_NO_CACHE=1).",
)
@reports_errors
def validate(
    paths: tuple[Path, ...],
    strict: bool,
    env: str | None,
    vars_file: Path | None,
    no_cache: bool,
) -> None:
    """Check configuration files or directories, each on its own; needs no target.

    A directory split into base/ and envs/ is checked in every environment (the base
    alone, and with each overlay) unless --env names one. The verdict on files that
    validated is remembered (see $CRMCONF_CACHE_DIR in the README).
    """
    from crmconf.config.verdicts import Verdict, Verdicts, cache_directory
    from crmconf.errors import ConfigError, Problem

    directory = None if no_cache or env is not None or vars_file else cache_directory()
    verdicts = Verdicts(directory) if directory is not None else None
    problems: list[Problem] = []
    for path in paths:
        key = verdicts.key(path, strict) if verdicts is not None else None
        known = verdicts.get(key) if verdicts is not None and key is not None else None
        if known is not None:
            _report_valid(path, known)
            continue
        from crmconf.config.files import is_layout

        if env is None and is_layout(path):
            problems.extend(validate_environments(path, strict, vars_file))
            continue
        try:
            config = load_config(path, strict, env, vars_file, report_warnings=False)
        except ConfigError as error:
            problems.extend(error.problems)
            continue
        verdict = Verdict(
            sum(len(records) for records in config.sections.values()),
            len(config.sections),
            tuple(str(warning) for warning in config.warnings),
        )
        _report_valid(path, verdict)
        if verdicts is not None and key is not None:
            verdicts.put(key, verdict)
    if problems:
        raise ConfigError(problems)


def _report_valid(path: Path, verdict: Verdict) -> None:
    for warning in verdict.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"{path}: valid ({verdict.items} items in {verdict.kinds} managed kinds).")


@click.command()
@target_option
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write to FILE.")
@reports_errors
def export(target: str | None, output: Path | None) -> None:
    """Write the target's settings as a configuration (planning it gives no changes)."""
    from crmconf.api import export as export_target
    from crmconf.targets import open_target, target_url

    with open_target(target_url(target)) as crm:
        text = export_target(crm)
    if output is None:
        click.echo(text, nl=False)
    else:
        write_atomically(output, text)
        click.echo(f"Wrote {output}.", err=True)


@click.command()
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write to FILE.")
@click.option(
    "--overlay",
    is_flag=True,
    help="The schema of an environment's overlay files (envs/NAME/*.yaml) instead.",
)
@click.option(
    "--plan",
    "plan_format",
    is_flag=True,
    help="The schema of a plan's JSON (plan --format json, saved plans) instead.",
)
@reports_errors
def schema(output: Path | None, overlay: bool, plan_format: bool) -> None:
    """Print the JSON Schema of the configuration format."""
    if overlay and plan_format:
        from crmconf.cli.common import fail

        fail("--overlay and --plan name two different schemas: give one")
    if overlay:
        from crmconf.config.environments import overlay_schema_text

        text = overlay_schema_text()
    elif plan_format:
        from crmconf.planning.document_schema import plan_schema_text

        text = plan_schema_text()
    else:
        from crmconf.config.schema import schema_text

        text = schema_text()
    if output is None:
        click.echo(text, nl=False)
    else:
        write_atomically(output, text)
