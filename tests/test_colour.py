"""Colour on a terminal (green add, yellow change, red delete, bold summary, red errors,
yellow warnings); none when piped, with NO_COLOR set, or with --no-color."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from crmconf.cli import main
from tests.conftest import SEED

ANSI = re.compile(r"\x1b\[[0-9;]*m")
GREEN, YELLOW, RED, BOLD = "\x1b[32m", "\x1b[33m", "\x1b[31m", "\x1b[1m"
LINT = "crmconf: 1\nsales:\n  stages: [{title: W, probability: 5, status: closed_won}]\n"


def _run(*arguments: str | Path, color: bool, env: dict[str, str] | None = None) -> Result:
    """As on a terminal (color=True: click keeps the codes) or piped (color=False)."""
    return CliRunner().invoke(main, [str(a) for a in arguments], color=color, env=env)


def test_a_plan_on_a_terminal_is_coloured_by_action(demo_url: str) -> None:
    result = _run("plan", SEED, "--target", demo_url, color=True)

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert f'{GREEN}  + "Steg 5 Förlorad kund"\x1b[0m' in lines
    assert f'{YELLOW}  ~ "Data/IT" → "IT och telekom" (renamed in place)\x1b[0m' in lines
    assert f'{RED}  - "Turism"\x1b[0m' in lines
    assert f"{BOLD}Plan: 9 to add, 7 to change, 3 to delete.\x1b[0m" in lines
    assert (
        ANSI.sub("", result.stdout) == _run("plan", SEED, "--target", demo_url, color=False).stdout
    )


def test_errors_and_warnings_on_a_terminal(write_config: Callable[..., Path]) -> None:
    invalid = _run("validate", write_config("crmconf: 1\nindustries: [No]\n"), color=True)
    linted = _run("validate", write_config(LINT, "lint.yaml"), "--no-cache", color=True)

    assert invalid.exit_code == 1
    assert invalid.stderr.startswith(f"{RED}{BOLD}error:\x1b[0m ")
    assert linted.exit_code == 0, linted.output
    assert linted.stderr.startswith(f"{YELLOW}{BOLD}warning:\x1b[0m ")


@pytest.mark.parametrize(
    ("arguments", "env"),
    [([], {}), (["--no-color"], {}), ([], {"NO_COLOR": "1"})],
    ids=["piped", "--no-color", "NO_COLOR"],
)
def test_no_colour_when_piped_or_turned_off(
    demo_url: str, write_config: Callable[..., Path], arguments: list[str], env: dict[str, str]
) -> None:
    terminal = arguments or env  # those two must win over a terminal
    plan = _run(*arguments, "plan", SEED, "--target", demo_url, color=bool(terminal), env=env)
    error = _run(
        *arguments,
        "validate",
        write_config("crmconf: 1\nindustries: [No]\n"),
        color=bool(terminal),
        env=env,
    )

    assert plan.exit_code == 0, plan.output
    assert not ANSI.search(plan.output)
    assert error.exit_code == 1
    assert error.stderr.startswith("error: ")
    assert not ANSI.search(error.output)


@pytest.mark.parametrize("no_color", [False, True], ids=["terminal", "terminal with NO_COLOR"])
def test_a_real_terminal(demo_url: str, tmp_path: Path, no_color: bool) -> None:
    """The command in a pseudo-terminal, as a person runs it."""
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "CRMCONF_TARGET")}
    if no_color:
        environment["NO_COLOR"] = "1"
    leader, follower = pty.openpty()
    with subprocess.Popen(
        [sys.executable, "-m", "crmconf", "plan", str(SEED), "--target", demo_url],
        stdout=follower,
        stderr=follower,
        cwd=tmp_path,
        env=environment,
    ) as process:
        os.close(follower)
        output = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: the process is done
                break
            if not chunk:
                break
            output += chunk
        assert process.wait(timeout=60) == 0, output
    os.close(leader)

    text = output.decode()
    assert "Plan: 9 to add, 7 to change, 3 to delete." in text
    assert bool(ANSI.search(text)) is not no_color
