"""Usage errors exit 1 with click's message, for every command of the CLI.

Exit status 2 means "changes present" under --detailed-exitcode; a typo must never read
as drift in CI. The cases are derived from the commands' own parameters, so a command or
option added later is covered without editing this file.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from crmconf.cli import main
from crmconf.cli.app import COMMANDS


def _commands() -> Iterator[tuple[list[str], click.Command]]:
    """Every command and subcommand, with the words that run it."""
    context = click.Context(main)
    for name in COMMANDS:
        command = main.get_command(context, name)
        assert command is not None
        yield [name], command
        if isinstance(command, click.Group):
            for sub in command.list_commands(context):
                subcommand = command.get_command(context, sub)
                assert subcommand is not None
                yield [name, sub], subcommand


def _required_arguments(command: click.Command) -> list[str]:
    """Values for the command's required arguments, so only the mistake under test remains."""
    values: list[str] = []
    for parameter in command.params:
        if isinstance(parameter, click.Argument) and parameter.required:
            values.append("x.yaml" if isinstance(parameter.type, click.Path) else "1")
    return values


def _usage_errors() -> Iterator[object]:
    for words, command in _commands():
        label = " ".join(words)
        arguments = _required_arguments(command)
        yield pytest.param([*words, *arguments, "--typo"], id=f"{label}: unknown option")
        if isinstance(command, click.Group):
            yield pytest.param([*words, "no-such-command"], id=f"{label}: unknown command")
            continue
        if any(isinstance(p, click.Argument) and p.required for p in command.params):
            yield pytest.param(words, id=f"{label}: missing argument")
        for parameter in command.params:
            if not isinstance(parameter, click.Option) or parameter.is_flag:
                continue
            option = parameter.opts[-1]
            if isinstance(parameter.type, click.Choice):
                bad = "no-such-choice"
            elif parameter.type.name in {"integer", "float", "integer range", "float range"}:
                bad = "abc"
            else:
                yield pytest.param(
                    [*words, *arguments, option], id=f"{label}: {option} without a value"
                )
                continue
            yield pytest.param([*words, *arguments, option, bad], id=f"{label}: bad {option}")
            if any("--detailed-exitcode" in p.opts for p in command.params):
                yield pytest.param(
                    [*words, *arguments, "--detailed-exitcode", option, bad],
                    id=f"{label}: bad {option} with --detailed-exitcode",
                )
    yield pytest.param(["no-such-command"], id="unknown command")
    yield pytest.param(["--typo", "plan"], id="unknown global option")


@pytest.mark.parametrize("arguments", list(_usage_errors()))
def test_usage_errors_exit_1_with_clicks_message(
    arguments: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(main, arguments)

    assert result.exit_code == 1, (result.exit_code, result.output)
    assert result.stderr.count("Error: ") == 1, result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not (tmp_path / ".crmconf").exists()


def test_the_usage_error_cases_cover_every_command() -> None:
    covered = {case.id.split(":")[0] for case in _usage_errors()}  # type: ignore[attr-defined]

    assert {" ".join(words) for words, _command in _commands()} <= covered
    assert any("with --detailed-exitcode" in case.id for case in _usage_errors())  # type: ignore[attr-defined]


def test_usage_error_from_a_shell_exits_1(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "crmconf", "drift", "--typo", "x.yaml"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )

    assert run.returncode == 1, run.stderr
    assert "No such option '--typo'" in run.stderr
    assert "Traceback" not in run.stderr
