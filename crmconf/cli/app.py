"""The `crmconf` command group; each command's module is imported only when it runs."""

from __future__ import annotations

import gc
import importlib
import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from gettext import gettext as _
from typing import Any

import click

COMMANDS: dict[str, tuple[str, str]] = {
    "24so": (
        "crmconf.cli.twentyfour_commands:twentyfour",
        "24SevenOffice: the users and identities a configuration and URL refer to.",
    ),
    "apply": (
        "crmconf.cli.plan_commands:apply",
        "Apply PATH (a configuration, or a plan saved with 'plan -o'): show, ask, apply.",
    ),
    "compare": (
        "crmconf.cli.compare_command:compare",
        "Compare every tenant with the firm's standard: exit 0 if all match, 2 if any differs.",
    ),
    "confirm": (
        "crmconf.cli.confirm_command:confirm",
        "Record that you checked by hand, in the CRM, what the target cannot read.",
    ),
    "customers": (
        "crmconf.cli.customers_commands:customers",
        'Deleted customers: list and restore them ("Återställa kunder").',
    ),
    "drift": (
        "crmconf.cli.review_commands:drift",
        "Compare the target with PATH: exit 0 when they agree, 2 on drift, 1 on error.",
    ),
    "export": (
        "crmconf.cli.config_commands:export",
        "Write the target's settings as a configuration (planning it gives no changes).",
    ),
    "fmt": (
        "crmconf.cli.fmt_command:fmt",
        "Format configuration files, or the *.yaml / *.yml files of directories.",
    ),
    "forecast": (
        "crmconf.cli.forecast_command:forecast",
        "Forecast sales: open opportunities' amounts weighted by their stage's probability.",
    ),
    "history": (
        "crmconf.cli.history_commands:history",
        "List applies, moves and rollbacks recorded in the target, newest first.",
    ),
    "move-customers": (
        "crmconf.cli.history_commands:move_customers",
        'Move ALL customers of an industry (or status type) to another — "Flytta kunder".',
    ),
    "plan": (
        "crmconf.cli.plan_commands:plan_command",
        "Show what applying PATH would change. Never writes to the target.",
    ),
    "pull": (
        "crmconf.cli.pull_command:pull",
        "Bring what the CRM holds back into PATH's files, in place, keeping their comments.",
    ),
    "rollback": (
        "crmconf.cli.history_commands:rollback",
        "Undo a recorded apply or move exactly: settings and every record it touched.",
    ),
    "sandbox": (
        "crmconf.cli.sandbox_commands:sandbox",
        "The embedded sandbox CRM (SQLite), for trying crmconf out and for tests.",
    ),
    "schema": (
        "crmconf.cli.config_commands:schema",
        "Print the JSON Schema of the configuration format.",
    ),
    "validate": (
        "crmconf.cli.config_commands:validate",
        "Check configuration files or directories, each on its own; needs no target.",
    ),
}
"""Each command: where it is defined, and the first paragraph of its help for the
command list of `crmconf --help` (tests/test_cli.py checks that they agree)."""


@contextmanager
def _usage_errors_exit_1() -> Iterator[None]:
    """click exits 2 on a usage error, the status that means "changes present" under
    --detailed-exitcode: a CI job would read a typo as drift. Keep click's message, exit 1."""
    try:
        yield
    except click.UsageError as error:
        error.exit_code = 1  # type: ignore[misc]  # click declares it per class; this one instance
        raise


def _summary(command: click.Command) -> str:
    """A command's first paragraph, whole: click's short help cuts it at the first
    sentence or at the terminal's width, often mid-phrase."""
    return " ".join(inspect.cleandoc(command.help or "").split("\n\n")[0].split())


class SummaryGroup(click.Group):
    """A group whose command list shows each command's whole summary, wrapped."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        listed = [
            (name, command)
            for name in self.list_commands(ctx)
            if (command := self.get_command(ctx, name)) is not None and not command.hidden
        ]
        _write_commands(formatter, listed)


def _write_commands(
    formatter: click.HelpFormatter, listed: list[tuple[str, click.Command]]
) -> None:
    if listed:
        with formatter.section(_("Commands")):
            formatter.write_dl([(name, _summary(command)) for name, command in listed])


class LazyGroup(click.Group):
    """A group that imports a command's module only when that command is run or asked
    for its own help: start-up pays for click, not for every command's imports.

    Usage errors of the group and of every command under it exit 1: the group's own
    options are parsed in make_context, each subcommand's (and sub-group's) in invoke."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        with _usage_errors_exit_1():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with _usage_errors_exit_1():
            return super().invoke(ctx)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, attribute = COMMANDS[cmd_name][0].split(":")
            command = getattr(importlib.import_module(module), attribute)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # click's listing, from the summaries of the commands not imported yet.
        listed = [
            (name, self.commands.get(name) or click.Command(name, help=COMMANDS[name][1]))
            for name in self.list_commands(ctx)
        ]
        _write_commands(formatter, [(name, cmd) for name, cmd in listed if not cmd.hidden])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="crmconf", prog_name="crmconf")
@click.option(
    "--allow-outside-root",
    is_flag=True,
    help="Let a configuration directory hold links to files outside it.",
)
@click.option(
    "--no-color",
    is_flag=True,
    help="No colour, even on a terminal (as with the NO_COLOR variable set).",
)
def main(allow_outside_root: bool, no_color: bool) -> None:
    """CRM settings as code: validate, plan and apply a YAML configuration."""
    import logging
    import os

    if no_color or os.environ.get("NO_COLOR"):
        click.get_current_context().color = False  # click.echo then strips every style

    if allow_outside_root:
        from crmconf.config.files import OUTSIDE_ROOT_ALLOWED

        token = OUTSIDE_ROOT_ALLOWED.set(True)
        click.get_current_context().call_on_close(lambda: OUTSIDE_ROOT_ALLOWED.reset(token))
    # A command builds hundreds of thousands of long-lived, acyclic objects (YAML values,
    # records, state): frequent cyclic collections only re-walk them (35-40 % of a large
    # plan, per benchmarks/README.md). Collect rarely instead of never.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    # Library notices (retries, a lock left behind) reach the user as plain lines.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    logging.addLevelName(logging.WARNING, "warning")
