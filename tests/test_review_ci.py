"""The CI examples in examples/ci/ only run crmconf commands and flags that exist.

Every `crmconf …` command line in them is checked against the click group itself,
so renaming a flag without updating the examples fails here.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from crmconf.cli import main
from crmconf.planning.render.markdown import MARKER
from tests.conftest import ROOT

EXAMPLES = sorted((ROOT / "examples" / "ci").glob("*.yml"))
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"
BUILTIN_SCHEMAS = {
    "github-actions.yml": "vendor.github-workflows",
    "gitlab-ci.yml": "vendor.gitlab-ci",
}
_REDIRECTION = re.compile(r"\s\d?>>?\s*\S+")
SCRIPT_KEYS = {"run", "script", "before_script", "after_script"}
"""Where shell commands live: GitHub's `steps[].run`, GitLab's `*script` lists."""


def _scripts(value: Any, key: str | None = None) -> Iterator[str]:
    if isinstance(value, str) and key in SCRIPT_KEYS:
        yield value
    elif isinstance(value, dict):
        for name, item in value.items():
            yield from _scripts(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from _scripts(item, key)


def crmconf_commands(path: Path) -> list[list[str]]:
    """The words of every crmconf command line in a CI file's scripts."""
    commands: list[list[str]] = []
    for script in _scripts(yaml.safe_load(path.read_text(encoding="utf-8"))):
        for line in script.replace("\\\n", " ").splitlines():
            line = _REDIRECTION.sub(" ", line.split(" #", 1)[0])
            for segment in re.split(r"&&|\|\||;|\|", line):
                if segment.split()[:1] == ["crmconf"]:
                    commands.append(shlex.split(segment)[1:])
    return commands


def check_command_line(words: list[str]) -> None:
    """Raise AssertionError unless the words name a crmconf command and its options."""
    command: click.Command = main
    while isinstance(command, click.Group):
        assert words, f"{command.name} needs a subcommand"
        name, words = words[0], words[1:]
        # click's own lookup: the main group loads its commands lazily.
        context = click.Context(command)
        found = command.get_command(context, name)
        there = sorted(command.list_commands(context))
        assert found is not None, f"no command {name!r}; there are {there}"
        command = found
    options = {opt: param for param in command.params for opt in param.opts + param.secondary_opts}
    positional = [param for param in command.params if isinstance(param, click.Argument)]
    arguments = 0
    remaining = list(words)
    while remaining:
        word = remaining.pop(0)
        if not word.startswith("-"):
            arguments += 1
            continue
        flag, _, value = word.partition("=")
        assert flag in options, f"{command.name}: no option {flag}; there are {sorted(options)}"
        param = options[flag]
        if isinstance(param, click.Option) and not param.is_flag and not value:
            assert remaining, f"{command.name} {flag} needs a value"
            value = remaining.pop(0)
        if isinstance(param.type, click.Choice) and value:
            assert value in param.type.choices, f"{command.name} {flag}: {value!r} is no choice"
    assert arguments == len(positional), f"{command.name} takes {len(positional)} argument(s)"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_every_crmconf_command_line_exists(path: Path) -> None:
    commands = crmconf_commands(path)

    for words in commands:
        check_command_line(words)
    plans = [words for words in commands if words[0] == "plan"]
    assert any({"--format", "markdown", "--detailed-exitcode"} <= set(w) for w in plans)
    assert any(w[-2:] == ["-o", "plan.json"] for w in plans)
    assert ["apply", "plan.json", "--yes"] in commands


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_the_comment_is_found_by_the_plan_marker(path: Path) -> None:
    text = path.read_text(encoding="utf-8")

    assert text.count(f"'{MARKER}'") + text.count(f'"{MARKER}"') >= 2  # error comment, search


def test_both_examples_are_there() -> None:
    assert [path.name for path in EXAMPLES] == sorted(BUILTIN_SCHEMAS)


@pytest.mark.skipif(not CHECK_JSONSCHEMA.exists(), reason="check-jsonschema is a dev dependency")
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_examples_are_valid_for_their_ci_system(path: Path) -> None:
    # check-jsonschema ships the GitHub Actions and GitLab CI schemas: no network.
    result = subprocess.run(
        [CHECK_JSONSCHEMA, "--builtin-schema", BUILTIN_SCHEMAS[path.name], path],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "line",
    [
        "plan crm/ --formt json",
        "plan crm/ --format yaml",
        "planx crm/",
        "apply",
        "sandbox start",
        "drift crm/ --target",
    ],
)
def test_the_check_catches_what_does_not_exist(line: str) -> None:
    with pytest.raises(AssertionError):
        check_command_line(shlex.split(line))
