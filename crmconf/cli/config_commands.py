"""Commands that need no plan: validate, export, schema."""

from __future__ import annotations

from pathlib import Path

import click

from crmconf.cli.app import main
from crmconf.cli.common import (
    load_config,
    reports_errors,
    strict_option,
    target_option,
    write_atomically,
)
from crmconf.cli.environments import environment_options, validate_environments


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@strict_option
@environment_options
@reports_errors
def validate(
    paths: tuple[Path, ...], strict: bool, env: str | None, vars_file: Path | None
) -> None:
    """Check configuration files or directories, each on its own; needs no target.

    A directory split into base/ and envs/ is checked in every environment (the base
    alone, and with each overlay) unless --env names one.
    """
    from crmconf.config.environments import is_layout
    from crmconf.errors import ConfigError, Problem

    problems: list[Problem] = []
    for path in paths:
        if env is None and is_layout(path):
            problems.extend(validate_environments(path, strict, vars_file))
            continue
        try:
            config = load_config(path, strict, env, vars_file)
        except ConfigError as error:
            problems.extend(error.problems)
            continue
        items = sum(len(records) for records in config.sections.values())
        click.echo(f"{path}: valid ({items} items in {len(config.sections)} managed kinds).")
    if problems:
        raise ConfigError(problems)


@main.command()
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


@main.command()
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write to FILE.")
@click.option(
    "--overlay",
    is_flag=True,
    help="The schema of an environment's overlay files (envs/NAME/*.yaml) instead.",
)
@reports_errors
def schema(output: Path | None, overlay: bool) -> None:
    """Print the JSON Schema of the configuration format."""
    from crmconf.config.schema import schema_text

    text = schema_text()
    if overlay:
        from crmconf.config.environments import overlay_schema_text

        text = overlay_schema_text()
    if output is None:
        click.echo(text, nl=False)
    else:
        write_atomically(output, text)
