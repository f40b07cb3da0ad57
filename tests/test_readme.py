"""The README's console examples, run: each ```console block of README.md (and of any
examples/*/README.md) is parsed by Sybil, and every `$ command` in it is run with bash
in a fresh folder where `make demo` has just run — a demo sandbox at
.crmconf/sandbox.db with examples/seed.yaml applied, a copy of examples/, and
`.venv/bin` linked to this venv — its output (stdout and stderr, as a terminal shows
them) compared with the lines shown under it.

An HTML comment right above a block (invisible on GitHub) may change that: BEFORE_APPLY
(the demo sandbox as `sandbox init --demo` leaves it) or WITH_FAKE_24SO.

Only these differences are normalised, explicitly: the folder's path, timestamps
(`2026-11-27T04:37:03Z`), and a line `…` in the README stands for any lines. `cd DIR`
changes the folder for the block's next commands; `echo $?` sees the previous status.
To update an example after a change of behaviour: run `pytest tests/test_readme.py`,
read the difference it prints, and edit the block in the README.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sybil import Example, Sybil
from sybil.parsers.markdown import CodeBlockParser

from crmconf import api
from crmconf.targets.sandbox.admin import init_sandbox
from crmconf.testing import FakeTwentyFour
from tests.conftest import ROOT, SEED

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "examples").glob("*/README.md"))]
BIN = Path(sys.executable).parent
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
ELLIPSIS = "…"
BEFORE_APPLY = "<!-- console: the demo sandbox, before make demo applies the seed -->"
"""Above a block: run it on the demo sandbox as `sandbox init --demo` leaves it."""
WITH_FAKE_24SO = "<!-- console: with the fake 24SevenOffice server -->"
"""Above a block: run it with CRMCONF_TARGET=24so:// and the fake server's account
(crmconf.testing.FakeTwentyFour), as README's "Trying it against the bundled fake
server" sets up by hand."""

NOT_RUN = {
    "$ crmconf plan --all --detailed-exitcode": "three sandboxes; tenants finish in any order",
    "$ crmconf apply --all --yes": "needs a tenant made to fail on purpose",
    "$ .venv/bin/crmconf plan pipeline.yaml": "pipeline.yaml is described, not shown",
    "$ crmconf plan examples/24sevenoffice.yaml --detailed-exitcode": "after manual steps",
}
"""Blocks showing `$ ` commands that are not run, by their first command, and why:
tests/twentyfour and tests/test_tenants.py check what they show."""


def _normalised(text: str, workspace: Path) -> list[str]:
    text = text.replace(f"{workspace}/", "").replace(str(workspace), ".")
    return TIMESTAMP.sub("<time>", text).splitlines()


def _matches(shown: list[str], actual: list[str]) -> bool:
    """Whether the output matches what the README shows, `…` matching any lines."""
    if not shown:
        return not actual
    if shown[0] == ELLIPSIS:
        return any(_matches(shown[1:], actual[start:]) for start in range(len(actual) + 1))
    return bool(actual) and shown[0] == actual[0] and _matches(shown[1:], actual[1:])


def _commands(source: str) -> list[tuple[str, list[str]]]:
    """Each `$ command` of a console block, with the output lines shown under it."""
    commands: list[tuple[str, list[str]]] = []
    for line in source.splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        else:
            assert commands, f"output before any command: {line!r}"
            commands[-1][1].append(line)
    return commands


def _directive(example: Example) -> str | None:
    """The HTML comment right above a block, such as WITH_FAKE_24SO (invisible on GitHub)."""
    above = example.document.text[: example.start].rstrip().rsplit("\n", 1)[-1]
    return above if above.startswith("<!-- console:") else None


def _run_console(example: Example) -> None:
    workspace: Path = example.namespace["workspace"]
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("CRMCONF_", "NO_"))}
    environment |= {
        "PATH": f"{BIN}{os.pathsep}{environment.get('PATH', '')}",
        "PYTHONUNBUFFERED": "1",  # stdout and stderr interleaved as on a terminal
        "CRMCONF_CACHE_DIR": str(workspace / ".cache"),
        # The machine's request budget is the reader's own: the example counts from zero.
        "CRMCONF_24SO_BUDGET_FILE": str(workspace / "24so-requests.json"),
        "COLUMNS": "80",
    }
    if _directive(example) == WITH_FAKE_24SO:
        environment |= {**example.namespace["fake24so"].env(), "CRMCONF_TARGET": "24so://"}
        environment["NO_PROXY"] = environment["no_proxy"] = "127.0.0.1,localhost"
    folder, status = workspace, 0
    for command, shown in _commands(example.parsed):
        if command.startswith("cd "):
            folder = folder / command.removeprefix("cd ")
            continue
        run = subprocess.run(
            ["bash", "-c", f"(exit {status}); {command}"],
            cwd=folder,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=120,
        )
        status = run.returncode
        expected = _normalised("\n".join(shown), workspace)
        actual = _normalised(run.stdout, workspace)
        if not _matches(expected, actual):
            difference = "\n".join(
                difflib.unified_diff(expected, actual, "README", "actual", lineterm="")
            )
            raise AssertionError(f"$ {command}\n{difference}")


SYBIL = Sybil(parsers=[CodeBlockParser("console", _run_console)])


def _examples() -> list[object]:
    found = []
    for path in DOCUMENTS:
        document = SYBIL.parse(path)
        for example in document.examples():
            label = f"{path.relative_to(ROOT)}:{example.line}"
            found.append(pytest.param(example, id=label))
    return found


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A folder as after `make demo`."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "bin").symlink_to(BIN)
    url = f"sqlite:///{tmp_path / '.crmconf' / 'sandbox.db'}"
    init_sandbox(url, demo=True, reset=True)
    with api.open_target(url) as target:
        api.apply(api.plan(api.load(SEED), target), target)
    return tmp_path


@pytest.mark.parametrize("example", _examples())
def test_console_example(example: Example, workspace: Path) -> None:
    if _directive(example) == BEFORE_APPLY:
        database = workspace / ".crmconf" / "sandbox.db"
        database.unlink()
        init_sandbox(f"sqlite:///{database}", demo=True)
    else:
        assert _directive(example) in (None, WITH_FAKE_24SO), _directive(example)
    example.namespace["workspace"] = workspace
    with FakeTwentyFour() as fake:
        example.namespace["fake24so"] = fake
        example.evaluate()


def test_every_block_with_commands_and_output_is_run() -> None:
    """A block showing `$ command` and its output is a ```console block, or listed in
    NOT_RUN with the reason."""
    fences = re.compile(r"^(`{3,})(\w*)\n(.*?)^\1$", flags=re.DOTALL | re.MULTILINE)
    for path in DOCUMENTS:
        for fence in fences.finditer(path.read_text(encoding="utf-8")):
            language, body = fence[2], fence[3]
            first = next((line for line in body.splitlines() if line.startswith("$ ")), None)
            if first is None or language == "console":
                continue
            assert first in NOT_RUN, f"{path.name}: make this block ```console: {first}"
    assert len(_examples()) >= 3
