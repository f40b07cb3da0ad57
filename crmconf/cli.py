"""The `crmconf` command: a thin click layer over the Python API.

Heavy libraries (SQLAlchemy, deepdiff, jsonschema, pydantic) are imported inside
the commands that need them, so `crmconf --help` and `--version` start fast.
"""

from __future__ import annotations

import functools
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, ParamSpec, TypeVar

import click

from crmconf import __version__

if TYPE_CHECKING:
    from crmconf.model.configuration import Configuration, Limits
    from crmconf.planning.changes import Plan

P = ParamSpec("P")
R = TypeVar("R")

EXIT_CHANGES = 2


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn every error a user can cause into a message and exit status 1, no traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from crmconf.errors import ConfigError, CrmconfError

        try:
            return command(*args, **kwargs)
        except ConfigError as error:
            count = len(error.problems)
            for problem in error.problems:
                click.echo(f"error: {problem}", err=True)
            click.echo(f"{count} error{'s' if count != 1 else ''}; nothing was changed.", err=True)
            sys.exit(1)
        except CrmconfError as error:
            _fail(str(error))
        except KeyboardInterrupt:
            _fail("interrupted; nothing was changed by the step in progress")

    return wrapper


target_option = click.option(
    "--target",
    "target",
    metavar="URL",
    help="CRM to work on (default: $CRMCONF_TARGET, else sqlite:///.crmconf/sandbox.db).",
)
strict_option = click.option("--strict", is_flag=True, help="Treat lint warnings as errors.")
config_argument = click.argument("path", type=click.Path(path_type=Path))


def safety_options(command: Callable[P, R]) -> Callable[P, R]:
    """The mass-change guard's flags, shared by plan and apply."""
    options = (
        click.option(
            "--allow-mass-change",
            is_flag=True,
            help="Accept a plan beyond the limits below (after reviewing it).",
        ),
        click.option(
            "--max-deletes",
            type=click.IntRange(min=0),
            help="Deletes of one kind allowed without --allow-mass-change (default 3).",
        ),
        click.option(
            "--max-change-fraction",
            type=click.FloatRange(0, 1),
            help="Share of a kind (of 10+ items) updated or deleted (default 0.3).",
        ),
    )
    for option in reversed(options):
        command = option(command)
    return command


def _check_safety(
    plan: Plan,
    limits: Limits,
    allow_mass_change: bool,
    max_deletes: int | None,
    max_change_fraction: float | None,
) -> None:
    from dataclasses import replace

    from crmconf.planning.safety import check_mass_change

    if allow_mass_change:
        return
    if max_deletes is not None:
        limits = replace(limits, max_deletes=max_deletes)
    if max_change_fraction is not None:
        limits = replace(limits, max_change_fraction=max_change_fraction)
    check_mass_change(plan, limits)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="crmconf")
def main() -> None:
    """CRM settings as code: validate, plan and apply a YAML configuration."""


def _load(path: Path, strict: bool) -> Configuration:
    from crmconf.config.loader import load
    from crmconf.errors import ConfigError

    config = load(path)
    if strict and config.warnings:
        raise ConfigError(list(config.warnings))
    for warning in config.warnings:
        click.echo(f"warning: {warning}", err=True)
    return config


@main.command()
@config_argument
@strict_option
@reports_errors
def validate(path: Path, strict: bool) -> None:
    """Check a configuration file or directory; needs no target."""
    config = _load(path, strict)
    items = sum(len(records) for records in config.sections.values())
    click.echo(f"{path}: valid ({items} items in {len(config.sections)} managed kinds).")


@main.command(name="plan")
@config_argument
@target_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when there are changes (0: none, 1: error).",
)
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path),
    help="Also save the plan to FILE.json, for 'crmconf apply FILE.json'.",
)
@safety_options
@strict_option
@reports_errors
def plan_command(
    path: Path,
    target: str | None,
    output_format: str,
    detailed_exitcode: bool,
    out: Path | None,
    allow_mass_change: bool,
    max_deletes: int | None,
    max_change_fraction: float | None,
    strict: bool,
) -> None:
    """Show what applying PATH would change. Never writes to the target."""
    from crmconf.api import plan
    from crmconf.targets import open_target, target_url

    config = _load(path, strict)
    with open_target(target_url(target)) as crm:
        result = plan(config, crm)
        url = crm.url
    if output_format == "json":
        from crmconf.planning.render.json import render_json

        click.echo(render_json(result), nl=False)
    else:
        from crmconf.planning.render.text import render_text

        click.echo(render_text(result), nl=False)
    _check_safety(result, config.limits, allow_mass_change, max_deletes, max_change_fraction)
    if out is not None:
        from crmconf.planning.saved import dump_saved

        write_atomically(out, dump_saved(result, url, config, allow_mass_change))
        click.echo(f"Saved the plan to {out}; apply it with 'crmconf apply {out}'.", err=True)
    if detailed_exitcode and not result.empty:
        sys.exit(EXIT_CHANGES)


def confirm_or_refuse(question: str, yes: bool) -> None:
    """Ask before changing a target; without a terminal, refuse rather than guess."""
    if yes:
        return
    if not sys.stdin.isatty():
        _fail("refusing to change the target without confirmation: pass --yes")
    if not click.confirm(question, default=False):
        _fail("cancelled; nothing was changed")


@main.command()
@config_argument
@target_option
@click.option("--yes", "-y", is_flag=True, help="Apply without asking.")
@safety_options
@strict_option
@reports_errors
def apply(
    path: Path,
    target: str | None,
    yes: bool,
    allow_mass_change: bool,
    max_deletes: int | None,
    max_change_fraction: float | None,
    strict: bool,
) -> None:
    """Apply PATH (a configuration, or a plan saved with 'plan -o'): show, ask, apply.

    The apply is all or nothing, and refused when the target changed since the plan.
    """
    from crmconf.api import apply as apply_plan
    from crmconf.api import plan
    from crmconf.planning.render.text import render_text, summary_line
    from crmconf.planning.saved import is_saved_plan, load_saved, refuse_if_config_changed
    from crmconf.targets import open_target, target_url

    config = None
    if is_saved_plan(path):
        saved = load_saved(path)
        refuse_if_config_changed(saved)
        if target is not None and target_url(target) != saved.target:
            _fail(f"{path} was planned for {saved.target}, not {target}; plan again")
        url, result, limits = saved.target, saved.plan, saved.limits
        allow_mass_change = allow_mass_change or saved.allow_mass_change
    else:
        config = _load(path, strict)
        url, result, limits = target_url(target), None, config.limits
    with open_target(url) as crm:
        if config is not None:
            result = plan(config, crm)
        assert result is not None
        click.echo(render_text(result), nl=False)
        if result.empty:
            return
        _check_safety(result, limits, allow_mass_change, max_deletes, max_change_fraction)
        confirm_or_refuse(f"Apply these changes to {crm.url}?", yes)
        apply_plan(result, crm)
    click.echo(f"Applied. {summary_line(result).removeprefix('Plan: ')}")


def write_atomically(path: Path, text: str) -> None:
    """Write a whole file or nothing: a failed write never leaves half a file."""
    from crmconf.errors import CrmconfError

    directory = path.parent if str(path.parent) else Path(".")
    try:
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=directory, prefix=f".{path.name}.", delete=False
        ) as handle:
            handle.write(text)
            temporary = Path(handle.name)
        os.replace(temporary, path)
    except OSError as error:
        raise CrmconfError(f"cannot write {path}: {error.strerror}") from None


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
@reports_errors
def schema(output: Path | None) -> None:
    """Print the JSON Schema of the configuration format."""
    from crmconf.config.schema import schema_text

    if output is None:
        click.echo(schema_text(), nl=False)
    else:
        write_atomically(output, schema_text())


@main.group()
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
