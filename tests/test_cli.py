"""The `crmconf` command as a user runs it: exit codes, confirmation, targets, errors.

Most tests run the real command in-process through click's CliRunner; those about
tracebacks and imports run it in a subprocess, exactly as from a shell.
"""

from __future__ import annotations

import inspect
import json
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
import pytest
from click.testing import Result

from crmconf.cli import main
from crmconf.cli.app import COMMANDS
from tests.conftest import ROOT, SEED

WriteConfig = Callable[..., Path]
Cli = Callable[..., Result]


def _file(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def _dump(url: str) -> str:
    with sqlite3.connect(f"file:{_file(url)}?mode=ro", uri=True) as connection:
        return "\n".join(connection.iterdump())


def _run(*arguments: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command in a fresh interpreter, as from a shell."""
    environment = {key: value for key, value in os.environ.items() if key != "CRMCONF_TARGET"}
    return subprocess.run(
        [sys.executable, "-m", "crmconf", *map(str, arguments)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=60,
    )


# Exit codes


def test_plan_with_changes_exits_0_or_2_with_detailed_exitcode(cli: Cli, demo_url: str) -> None:
    plain = cli("plan", SEED, "--target", demo_url)
    detailed = cli("plan", SEED, "--target", demo_url, "--detailed-exitcode")

    assert plain.exit_code == 0, plain.output
    assert detailed.exit_code == 2, detailed.output
    assert detailed.stdout == plain.stdout


def test_plan_without_changes_exits_0_with_detailed_exitcode(cli: Cli, demo_url: str) -> None:
    assert cli("apply", SEED, "--target", demo_url, "--yes").exit_code == 0

    result = cli("plan", SEED, "--target", demo_url, "--detailed-exitcode")

    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip().endswith("No changes. The target matches the configuration.")


@pytest.mark.parametrize("arguments", [(), ("--detailed-exitcode",)], ids=["plain", "detailed"])
def test_plan_error_exits_1(
    cli: Cli, write_config: WriteConfig, demo_url: str, arguments: tuple[str, ...]
) -> None:
    invalid = write_config("crmconf: 1\nindustries: [No]\n")
    refused = write_config("crmconf: 1\nindustries: [Turism]\n", "refused.yaml")

    for path in (invalid, refused):
        result = cli("plan", path, "--target", demo_url, *arguments)
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith("error: ")
        assert "Plan:" not in result.stdout


def test_validate_exits_0_when_valid_and_1_when_not(cli: Cli, write_config: WriteConfig) -> None:
    valid = cli("validate", SEED)
    invalid = cli("validate", write_config("crmconf: 1\nindustries: [Bygg, bygg]\n"))

    assert valid.exit_code == 0, valid.output
    assert "valid" in valid.stdout
    assert invalid.exit_code == 1, invalid.output
    assert "1 error; nothing was changed." in invalid.stderr


# Apply asks first


@pytest.mark.sqlite_only(reason="compares sqlite3 dumps of the file")
@pytest.mark.parametrize("answer", [None, "y\n"], ids=["no input", "typed yes"])
def test_apply_without_yes_and_without_a_terminal_refuses_and_writes_nothing(
    cli: Cli, demo_url: str, answer: str | None
) -> None:
    before = _dump(demo_url)

    result = cli("apply", SEED, "--target", demo_url, input=answer)

    assert result.exit_code == 1, result.output
    assert "pass --yes" in result.stderr
    assert "Applied" not in result.output
    assert _dump(demo_url) == before


@pytest.mark.sqlite_only(reason="compares the SQLite file's dump")
@pytest.mark.parametrize("answer", ["", "maybe\n"], ids=["end of input", "not an answer"])
def test_a_prompt_left_without_an_answer_says_nothing_was_changed(
    cli: Cli, demo_url: str, monkeypatch: pytest.MonkeyPatch, answer: str
) -> None:
    # Ctrl-C or Ctrl-D at the prompt ended in click's bare "Aborted!", which does not
    # say whether anything was written.
    monkeypatch.setattr(click.testing._NamedTextIOWrapper, "isatty", lambda self: True)
    before = _dump(demo_url)

    result = cli("apply", SEED, "--target", demo_url, input=answer)

    assert result.exit_code == 1, result.output
    assert result.stderr.endswith("error: cancelled; nothing was changed\n"), result.stderr
    assert "Aborted" not in result.output
    assert _dump(demo_url) == before


def test_apply_with_yes_applies_and_says_what_it_did(cli: Cli, demo_url: str) -> None:
    result = cli("apply", SEED, "--target", demo_url, "--yes")

    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip().endswith("Applied. 9 to add, 7 to change, 3 to delete.")


def test_apply_without_changes_needs_no_confirmation(cli: Cli, demo_url: str) -> None:
    cli("apply", SEED, "--target", demo_url, "--yes")

    result = cli("apply", SEED, "--target", demo_url)

    assert result.exit_code == 0, result.output
    assert "No changes." in result.stdout


# Errors: a message with a place, never a traceback

ERROR_CASES = {
    "invalid config": (("validate", "{bad}"), "{bad}:2:14: "),
    "invalid config, plan": (("plan", "{bad}", "--target", "{url}"), "{bad}:2:14: "),
    "missing file": (("validate", "{tmp}/missing.yaml"), "{tmp}/missing.yaml: no such file"),
    "empty directory": (("validate", "{empty}"), "holds no *.yaml"),
    "binary file": (("validate", "{binary}"), "{binary}:1:1: invalid UTF-8"),
    "refused delete": (("plan", "{good}", "--target", "{url}"), "used by"),
    "unknown scheme": (("plan", "{good}", "--target", "mysql://x/y"), "unknown target"),
    "not a database": (("plan", "{good}", "--target", "sqlite:///{good}"), "not a database"),
    "no sandbox there": (
        ("plan", "{good}", "--target", "sqlite:////proc/no/such.db"),
        "no sandbox at sqlite:////proc/no/such.db; create one with 'crmconf sandbox init",
    ),
    "unwritable sandbox folder": (
        ("sandbox", "init", "--target", "sqlite:////proc/no/such.db"),
        "cannot create the sandbox",
    ),
    "unknown driver": (("plan", "{good}", "--target", "sqlite+nodriver:///{tmp}/x.db"), ""),
    "unreachable postgresql": (
        ("plan", "{good}", "--target", "postgresql://crmconf:secret@127.0.0.1:9/x"),
        "",
    ),
    "unwritable export": (
        ("export", "--target", "{url}", "-o", "{tmp}/no/such/dir.yaml"),
        "cannot write",
    ),
}
"""Per case: the command line, and what its error message must hold."""


def _error_case(name: str, url: str, tmp_path: Path) -> tuple[list[str], str]:
    bad = tmp_path / "bad.yaml"
    bad.write_text("crmconf: 1\nindustries: [on]\n")
    good = tmp_path / "good.yml.txt"
    good.write_text("crmconf: 1\nindustries: [Turism]\n")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00crmconf")
    empty = tmp_path / "empty"
    empty.mkdir()
    places = {"bad": bad, "good": good, "binary": binary, "empty": empty}
    places |= {"url": url, "tmp": tmp_path}
    arguments, message = ERROR_CASES[name]
    return [argument.format(**places) for argument in arguments], message.format(**places)


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_errors_exit_1_with_a_message_and_no_traceback(
    cli: Cli, request: pytest.FixtureRequest, sandbox_url: str, tmp_path: Path, case: str
) -> None:
    # Only a refused delete needs customer data; the other cases need no demo company.
    url = request.getfixturevalue("demo_url") if case == "refused delete" else sandbox_url
    arguments, message = _error_case(case, url, tmp_path)

    result = cli(*arguments)

    # An exception other than SystemExit is what would reach the user as a traceback.
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: "), result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert "secret" not in result.output


@pytest.mark.parametrize("case", ["invalid config", "unknown driver"])
def test_errors_from_a_shell_show_no_traceback(sandbox_url: str, tmp_path: Path, case: str) -> None:
    arguments, message = _error_case(case, sandbox_url, tmp_path)

    run = _run(*arguments, cwd=tmp_path)

    assert run.returncode == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert run.stderr.startswith("error: "), run.stderr
    assert message in run.stderr


def test_every_configuration_error_names_file_line_and_column(
    cli: Cli, write_config: WriteConfig
) -> None:
    path = write_config(
        """\
        crmconf: 1
        industries: [Bygg, bygg, No]
        sales:
          stages:
            - {title: A, probability: 101, status: Won, extra: 1}
        """
    )

    result = cli("validate", path)

    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors
    for line in errors:
        assert line.startswith(f"error: {path}:"), line
        place = line.removeprefix(f"error: {path}:").split(":")[:2]
        assert all(part.isdigit() for part in place), line
    assert "Traceback" not in result.output


# JSON output


def test_json_plan_has_the_documented_shape(cli: Cli, demo_url: str) -> None:
    result = cli("plan", SEED, "--target", demo_url, "--format", "json")

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["format_version"] == 1
    assert set(document["summary"]) == {"create", "update", "delete"}
    actions = [change["action"] for change in document["changes"]]
    assert document["summary"] == {
        action: actions.count(action) for action in ("create", "update", "delete")
    }
    assert document["summary"] == {"create": 9, "update": 7, "delete": 3}
    for change in document["changes"]:
        assert {"kind", "key", "action", "before", "after"} <= set(change), change
        assert isinstance(change["kind"], str) and isinstance(change["key"], str)
        assert (change["before"] is None) == (change["action"] == "create"), change
        assert (change["after"] is None) == (change["action"] == "delete"), change
    (rename,) = [c for c in document["changes"] if c["before"] and c["before"]["name"] == "Data/IT"]
    assert rename["key"] == "IT och telekom"
    assert rename["after"]["name"] == "IT och telekom"
    assert "name" in rename["changed"]


def test_json_plan_without_changes(cli: Cli, demo_url: str) -> None:
    cli("apply", SEED, "--target", demo_url, "--yes")

    result = cli("plan", SEED, "--target", demo_url, "--format", "json", "--detailed-exitcode")

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["changes"] == []
    assert document["summary"] == {"create": 0, "update": 0, "delete": 0}


def test_json_plan_stays_parseable_with_lint_warnings(
    cli: Cli, write_config: WriteConfig, sandbox_url: str
) -> None:
    path = write_config(
        "crmconf: 1\nsales:\n  stages: [{title: W, probability: 5, status: closed_won}]\n"
    )

    result = cli("plan", path, "--target", sandbox_url, "--format", "json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"] == {"create": 1, "update": 0, "delete": 0}
    assert "warning:" in result.stderr


@pytest.mark.parametrize(
    "command",
    [["plan"], ["plan", "--format", "json"], ["apply", "--yes"], ["drift"]],
    ids=["plan", "plan json", "apply", "drift"],
)
@pytest.mark.parametrize("drifted", [True, False], ids=["changes", "no changes"])
def test_each_lint_warning_is_shown_once(
    cli: Cli, write_config: WriteConfig, sandbox_url: str, command: list[str], drifted: bool
) -> None:
    """A terminal shows stdout and stderr together: a warning on both read twice."""
    path = write_config(
        "crmconf: 1\nsales:\n  stages: [{title: W, probability: 5, status: closed_won}]\n"
    )
    if not drifted:
        assert cli("apply", path, "--target", sandbox_url, "--yes").exit_code == 0

    result = cli(command[0], path, "--target", sandbox_url, *command[1:])

    assert result.exit_code in (0, 2), result.output
    # JSON carries them in its document, for programs; a person reads stderr.
    shown = result.stderr if "json" in command else result.output
    assert shown.count("is won but its probability is 5 %") == 1, result.output


# Targets


def test_crmconf_target_variable_is_honoured(
    cli: Cli, demo_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("CRMCONF_TARGET", demo_url)

    from_variable = cli("plan", SEED, "--detailed-exitcode")
    applied = cli("apply", SEED, "--yes")
    replanned = cli("plan", SEED, "--detailed-exitcode")

    assert from_variable.exit_code == 2, from_variable.output
    assert "Plan: 9 to add, 7 to change, 3 to delete." in from_variable.stdout
    assert applied.exit_code == 0, applied.output
    assert replanned.exit_code == 0, replanned.output
    assert not (elsewhere / ".crmconf").exists()


@pytest.mark.sqlite_only(reason="names a second SQLite file next to the first")
def test_target_option_wins_over_the_variable(
    cli: Cli, write_config: WriteConfig, demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRMCONF_TARGET", demo_url)
    path = write_config("crmconf: 1\nindustries: [Bygg]\n")
    other = demo_url.replace("crm.db", "other.db")
    assert cli("sandbox", "init", "--target", other).exit_code == 0

    result = cli("plan", path, "--target", other)

    assert result.exit_code == 0, result.output
    assert "Plan: 1 to add, 0 to change, 0 to delete." in result.stdout


@pytest.mark.parametrize(
    "command",
    [
        ("plan", "{config}"),
        ("apply", "{config}", "--yes"),
        ("drift", "{config}"),
        ("export",),
        ("history",),
        ("forecast",),
        ("customers", "deleted"),
        ("move-customers", "--industry", "Bygg", "--to", "Handel", "--yes"),
        ("rollback", "1", "--yes"),
        ("sandbox", "upgrade"),
    ],
    ids=lambda command: " ".join(command[:2]),
)
def test_only_sandbox_init_creates_a_sandbox(
    cli: Cli,
    write_config: WriteConfig,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: tuple[str, ...],
) -> None:
    monkeypatch.delenv("CRMCONF_TARGET", raising=False)
    monkeypatch.chdir(tmp_path)
    config = write_config("crmconf: 1\nindustries: [Bygg, Handel]\n")
    arguments = [part.format(config=config) for part in command]

    refused = cli(*arguments)

    assert refused.exit_code == 1, refused.output
    assert refused.stderr == (
        "error: no sandbox at sqlite:///.crmconf/sandbox.db; "
        "create one with 'crmconf sandbox init'\n"
    )
    assert not (tmp_path / ".crmconf").exists()
    elsewhere = cli(*arguments, "--target", f"sqlite:///{tmp_path}/no/such/dir/x.db")
    assert elsewhere.exit_code == 1
    assert "no sandbox at" in elsewhere.stderr
    assert not (tmp_path / "no").exists()


def test_sandbox_init_creates_the_default_sandbox_privately_in_the_working_directory(
    cli: Cli, write_config: WriteConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CRMCONF_TARGET", raising=False)
    monkeypatch.chdir(tmp_path)
    path = write_config("crmconf: 1\nindustries: [Bygg, Handel]\n")
    sandbox = tmp_path / ".crmconf" / "sandbox.db"

    assert cli("sandbox", "init").exit_code == 0
    applied = cli("apply", path, "--yes")

    assert applied.exit_code == 0, applied.output
    assert sandbox.is_file()
    assert stat.S_IMODE(sandbox.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(sandbox.stat().st_mode) == 0o600
    assert [p.name for p in sandbox.parent.iterdir()] == ["sandbox.db"]  # no leftovers
    replanned = cli("plan", path, "--target", f"sqlite:///{sandbox}", "--detailed-exitcode")
    assert replanned.exit_code == 0, replanned.output


def test_sandbox_init_uses_the_default_target(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CRMCONF_TARGET", raising=False)
    monkeypatch.chdir(tmp_path)

    result = cli("sandbox", "init", "--demo")

    assert result.exit_code == 0, result.output
    with sqlite3.connect(tmp_path / ".crmconf" / "sandbox.db") as connection:
        assert connection.execute("SELECT count(*) FROM users").fetchone() == (5,)
    connection.close()


# Start-up stays light


@pytest.mark.parametrize(
    ("arguments", "command_modules"),
    [
        (["--help"], []),
        (["--version"], []),
        (["plan", "--help"], ["crmconf.cli.plan_commands"]),
    ],
)
def test_help_does_not_import_heavy_libraries(
    tmp_path: Path, arguments: list[str], command_modules: list[str]
) -> None:
    program = f"""
import sys
import crmconf.cli
from crmconf.cli.app import COMMANDS
try:
    crmconf.cli.main({arguments!r})
except SystemExit:
    pass
heavy = {{"sqlalchemy", "deepdiff", "jsonschema", "pydantic", "pydantic_core", "yaml", "ruamel"}}
print(sorted(m for m in sys.modules if m.split(".")[0] in heavy))
print(sorted({{where.split(":")[0] for where, _summary in COMMANDS.values()}} & set(sys.modules)))
print(sorted(m for m in sys.modules if m.startswith("crmconf.")))
"""

    run = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )

    assert run.returncode == 0, run.stderr
    heavy, commands, crmconf_modules = run.stdout.splitlines()[-3:]
    assert heavy == "[]"
    assert commands == repr(command_modules)
    if not command_modules:
        assert crmconf_modules == repr(["crmconf.cli", "crmconf.cli.app"])


def test_command_list_matches_the_commands() -> None:
    """`crmconf --help` lists the commands from their summaries, without importing them."""
    for name, (_where, summary) in COMMANDS.items():
        command = main.get_command(click.Context(main), name)

        assert command is not None
        assert command.name == name
        assert inspect.cleandoc(command.help or "").split("\n\n")[0] == summary


def test_package_runs_as_a_module(tmp_path: Path) -> None:
    run = _run("--version", cwd=tmp_path)

    assert run.returncode == 0, run.stderr
    assert "crmconf" in run.stdout


def test_examples_validate(cli: Cli) -> None:
    for example in sorted((ROOT / "examples").glob("*.yaml")):
        result = cli("validate", example, "--strict")
        assert result.exit_code == 0, (example, result.output)


# Help


def _words(text: str) -> str:
    return " ".join(text.split())


def test_command_lists_show_whole_summaries(cli: Cli) -> None:
    """click's short help cut summaries mid-phrase ("… a configuration..."): never."""
    listing = _words(cli("--help").stdout.split("Commands:")[1])
    for name, (_where, summary) in COMMANDS.items():
        assert f"{name} {_words(summary)}" in listing, name
        command = main.get_command(click.Context(main), name)
        if isinstance(command, click.Group):
            sublisting = _words(cli(name, "--help").stdout.split("Commands:")[1])
            for sub in command.list_commands(click.Context(command)):
                subcommand = command.get_command(click.Context(command), sub)
                assert subcommand is not None
                first = inspect.cleandoc(subcommand.help or "").split("\n\n")[0]
                assert f"{sub} {_words(first)}" in sublisting, (name, sub)
    assert "..." not in listing


@pytest.mark.parametrize("spelling", ["-o", "--output", "--out"])
def test_plan_saves_with_output_like_export_and_schema(
    cli: Cli, demo_url: str, tmp_path: Path, spelling: str
) -> None:
    saved = tmp_path / "plan.json"

    result = cli("plan", SEED, "--target", demo_url, spelling, saved)

    assert result.exit_code == 0, result.output
    assert json.loads(saved.read_text(encoding="utf-8"))["saved"]["target"] == demo_url


def test_help_names_output_and_documents_every_option(cli: Cli) -> None:
    plan_help = cli("plan", "--help").stdout
    assert "-o, --output FILE" in plan_help
    assert (
        "--out " not in plan_help and "--out," not in plan_help
    )  # the old name: accepted, not shown
    for name in COMMANDS:
        command = main.get_command(click.Context(main), name)
        assert command is not None
        commands = (
            [
                command.get_command(click.Context(command), sub)
                for sub in command.list_commands(click.Context(command))
            ]
            if isinstance(command, click.Group)
            else [command]
        )
        for each in commands:
            assert each is not None
            for parameter in each.params:
                if isinstance(parameter, click.Option) and not parameter.hidden:
                    assert parameter.help, (name, each.name, parameter.opts)


def test_a_customer_id_that_is_not_a_number_is_named_as_such(cli: Cli) -> None:
    result = cli("customers", "restore", "abc")

    assert result.exit_code == 1
    assert "'abc' is not a customer id: ids are whole numbers from 1" in result.stderr
    assert "integer range" not in result.stderr


@pytest.mark.parametrize(
    ("words", "expected"),
    [("crmconf pl", "plain,plan"), ("crmconf plan --format j", "plain,json")],
)
def test_shell_completion_as_the_readme_sets_it_up(
    tmp_path: Path, words: str, expected: str
) -> None:
    source = subprocess.run(
        [Path(sys.executable).parent / "crmconf"],
        env={**os.environ, "_CRMCONF_COMPLETE": "bash_source"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "complete -o nosort -F _crmconf_completion crmconf" in source.stdout, source.stderr

    completed = subprocess.run(
        [Path(sys.executable).parent / "crmconf"],
        env={
            **os.environ,
            "_CRMCONF_COMPLETE": "bash_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - 1),
        },
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )

    assert completed.stdout.splitlines() == [expected], completed.stderr
