"""Pieces every command shares: error reporting, options, confirmation, safe writes."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar

import click

from crmconf.errors import CrmconfError

if TYPE_CHECKING:
    from crmconf.model.configuration import Configuration
    from crmconf.targets.base import Target

P = ParamSpec("P")
R = TypeVar("R")

EXIT_CHANGES = 2


def fail(message: str) -> NoReturn:
    from crmconf.cli.colour import error

    click.echo(error(message), err=True)
    sys.exit(1)


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn every error a user can cause into a message and exit status 1, no traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from crmconf.errors import ConfigError

        try:
            return command(*args, **kwargs)
        except ConfigError as error:
            from crmconf.cli.colour import error as error_line

            count = len(error.problems)
            for problem in error.problems:
                click.echo(error_line(str(problem)), err=True)
            click.echo(f"{count} error{'s' if count != 1 else ''}; nothing was changed.", err=True)
            sys.exit(1)
        except CrmconfError as error:
            fail(str(error))
        except KeyboardInterrupt:
            fail("interrupted; nothing was changed by the step in progress")

    return wrapper


target_option = click.option(
    "--target",
    "target",
    metavar="URL",
    help="CRM to work on (default: $CRMCONF_TARGET, else sqlite:///.crmconf/sandbox.db).",
)


class AliasedOption(click.Option):
    """An option that still accepts an older spelling without listing it in --help."""

    def __init__(self, *args: Any, hidden_aliases: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hidden_aliases = hidden_aliases

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        shown, self.opts = self.opts, [opt for opt in self.opts if opt not in self.hidden_aliases]
        try:
            return super().get_help_record(ctx)
        finally:
            self.opts = shown


strict_option = click.option("--strict", is_flag=True, help="Treat lint warnings as errors.")
config_argument = click.argument("path", type=click.Path(path_type=Path))


class Seconds(click.ParamType[float]):
    """A finite, non-negative number of seconds: `nan` compares false with every bound and
    would wait forever, `inf` too."""

    name = "seconds"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        import math

        try:
            seconds = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if not math.isfinite(seconds) or seconds < 0:
            self.fail(f"{value!r} is not a finite, non-negative number of seconds", param, ctx)
        return seconds


class FiniteRange(click.FloatRange):
    """A number within bounds that is finite: `nan` compares false with everything, so a
    limit of `nan` would let every plan through, and `inf` is not JSON in a saved plan."""

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        import math

        if not math.isfinite(click.FLOAT.convert(value, param, ctx)):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return super().convert(value, param, ctx)


def writer_options(command: Callable[P, R]) -> Callable[P, R]:
    """Who is changing the target, and how long to wait for another writer."""
    options = (
        click.option(
            "--actor",
            metavar="NAME",
            help="Who is making the change, for the target's history (default: OS user).",
        ),
        click.option(
            "--lock-timeout",
            type=Seconds(),
            default=0,
            metavar="SECONDS",
            help="Wait this long for another apply, move or rollback to finish (default: 0).",
        ),
    )
    for option in reversed(options):
        command = option(command)
    return command


def as_writer(target: Target, actor: str | None, lock_timeout: float) -> Target:
    if actor:
        target.actor = actor
    target.lock_timeout = lock_timeout
    return target


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
            type=FiniteRange(0, 1),
            help="Share of a kind (of 10+ items) updated or deleted (default 0.3).",
        ),
        click.option(
            "--allow-forecast-change",
            is_flag=True,
            help="Accept a plan moving the weighted forecast beyond its limits (reviewed).",
        ),
        click.option(
            "--max-forecast-change-percent",
            type=FiniteRange(min=0),
            metavar="PERCENT",
            help="How far a plan may move the weighted forecast, in total or of a sales "
            "group, in % (default: no limit, or safety: in the configuration).",
        ),
        click.option(
            "--max-forecast-change-amount",
            type=FiniteRange(min=0),
            metavar="AMOUNT",
            help="The same as an amount.",
        ),
    )
    for option in reversed(options):
        command = option(command)
    return command


def load_config(
    path: Path,
    strict: bool,
    env: str | None = None,
    vars_file: Path | None = None,
    *,
    report_warnings: bool = True,
) -> Configuration:
    """Load a configuration for a command; lint warnings are errors with --strict, else
    printed (unless the caller reports them itself)."""
    from crmconf.api import load
    from crmconf.config.environments import require_environment
    from crmconf.errors import ConfigError

    require_environment(path, env)
    config = load(path, env=env, vars_file=vars_file)
    if strict and config.warnings:
        raise ConfigError(list(config.warnings))
    from crmconf.cli.colour import warning as warning_line

    for warning in config.warnings if report_warnings else ():
        click.echo(warning_line(str(warning)), err=True)
    return config


def confirm_or_refuse(question: str, yes: bool) -> None:
    """Ask before changing a target; without a terminal, refuse rather than guess."""
    if yes:
        return
    if not sys.stdin.isatty():
        fail("refusing to change the target without confirmation: pass --yes")
    try:
        confirmed = click.confirm(question, default=False)
    except click.Abort:  # Ctrl-C or Ctrl-D at the prompt: click would say only "Aborted!"
        confirmed = False
        click.echo(err=True)
    if not confirmed:
        fail("cancelled; nothing was changed")


STANDARD_OUTPUT = "-"
"""What `-o` takes for standard output."""


def is_standard_output(path: Path | None) -> bool:
    return path is not None and str(path) == STANDARD_OUTPUT


def write_atomically(path: Path, text: str) -> None:
    """Write a whole file or nothing: a failed write never leaves half a file, nor the
    temporary one beside it. `-` is standard output.

    Only a regular file (or a new path) is replaced: replacing a device, a pipe or the
    link to one with a regular file would break it (as root, /dev/full). A symlink to a
    regular file stays a symlink; its file is rewritten.
    """
    if is_standard_output(path):
        click.echo(text, nl=False)
        return
    from crmconf.config.files import replace_file

    replace_file(
        path, text, f"write to a regular file, or give -o {STANDARD_OUTPUT} for standard output"
    )
