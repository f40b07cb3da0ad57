"""The pre-commit hooks of .pre-commit-hooks.yaml, run by pre-commit on a throwaway repository.

A consumer's pre-commit installs the `language: python` hooks from the repository and
PyPI. To stay offline, these tests declare the same hooks (entry, files) as `repo:
local` hooks with `language: system`, which run this checkout's `crmconf`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result

from tests.conftest import ROOT

Cli = Callable[..., Result]
MANIFEST = ROOT / ".pre-commit-hooks.yaml"
BIN = Path(sys.executable).parent
GOOD = "crmconf: 1\nindustries: [Bygg]\n"
BAD = "crmconf: 1\nindustries: [Bygg, No]\n"
MESSY = "crmconf: 1\nindustries:\n    - Turism\n    - Bygg   # the first customers\n"


def _hooks() -> dict[str, dict[str, Any]]:
    hooks: list[dict[str, Any]] = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return {hook["id"]: hook for hook in hooks}


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A git repository whose pre-commit configuration holds every hook of the manifest."""
    folder = tmp_path / "repository"
    folder.mkdir()
    local = [{**hook, "language": "system"} for hook in _hooks().values()]
    config = {"repos": [{"repo": "local", "hooks": local}]}
    (folder / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (folder / "good.yaml").write_text(GOOD, encoding="utf-8")
    (folder / "bad.yaml").write_text(BAD, encoding="utf-8")
    (folder / "messy.yaml").write_text(MESSY, encoding="utf-8")
    _git(folder, "init", "--quiet")
    _git(folder, "add", "--all")
    return folder


def _environment(repository: Path) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GIT_", "PRE_COMMIT")) and key != "CRMCONF_TARGET"
    }
    environment["PATH"] = f"{BIN}{os.pathsep}{environment.get('PATH', '')}"
    environment["PRE_COMMIT_HOME"] = str(repository.parent / "pre-commit-home")
    return environment


def _git(repository: Path, *arguments: str) -> None:
    subprocess.run(
        ["git", *arguments], cwd=repository, env=_environment(repository), check=True, timeout=60
    )


def _pre_commit(repository: Path, hook: str, *files: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "pre-commit"), "run", hook, "--files", *files],
        cwd=repository,
        env=_environment(repository),
        capture_output=True,
        text=True,
        timeout=120,
    )


# The manifest


def test_the_manifest_offers_validate_and_fmt() -> None:
    hooks = _hooks()

    assert hooks["crmconf-validate"]["entry"] == "crmconf validate"
    assert hooks["crmconf-fmt"]["entry"] == "crmconf fmt"
    assert hooks["crmconf-fmt-check"]["entry"] == "crmconf fmt --check"
    for hook in hooks.values():
        pattern = re.compile(hook["files"])
        assert pattern.search("crm/settings.yaml") and pattern.search("crm/settings.yml")
        assert not pattern.search("crm/settings.json")


def test_pre_commit_accepts_the_manifest() -> None:
    result = subprocess.run(
        [str(BIN / "pre-commit"), "validate-manifest", str(MANIFEST)],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stdout + result.stderr


# The hooks, run by pre-commit


def test_validate_hook_passes_a_good_file(repository: Path) -> None:
    result = _pre_commit(repository, "crmconf-validate", "good.yaml")

    assert result.returncode == 0, result.stdout
    assert "Passed" in result.stdout


def test_validate_hook_fails_a_bad_file_naming_where(repository: Path) -> None:
    result = _pre_commit(repository, "crmconf-validate", "good.yaml", "bad.yaml")

    assert result.returncode == 1, result.stdout
    assert "good.yaml: valid" in result.stdout
    assert "error: bad.yaml:2:20: 'No' is read as a boolean by YAML 1.1" in result.stdout


def test_fmt_hook_rewrites_a_file_then_passes(repository: Path) -> None:
    first = _pre_commit(repository, "crmconf-fmt", "good.yaml", "messy.yaml")
    second = _pre_commit(repository, "crmconf-fmt", "good.yaml", "messy.yaml")

    assert first.returncode == 1, first.stdout
    assert "files were modified by this hook" in first.stdout
    assert (repository / "messy.yaml").read_text(encoding="utf-8") == (
        "crmconf: 1\nindustries:\n  - Bygg     # the first customers\n  - Turism\n"
    )
    assert (repository / "good.yaml").read_text(encoding="utf-8") == GOOD
    assert second.returncode == 0, second.stdout


def test_fmt_check_hook_fails_and_changes_nothing(repository: Path) -> None:
    result = _pre_commit(repository, "crmconf-fmt-check", "good.yaml", "messy.yaml")

    assert result.returncode == 1, result.stdout
    assert "would reformat messy.yaml" in result.stdout
    assert (repository / "messy.yaml").read_text(encoding="utf-8") == MESSY


# Several files at once, as pre-commit passes them


def test_validate_checks_every_path_and_reports_every_error(cli: Cli, tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(GOOD, encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD, encoding="utf-8")
    worse = tmp_path / "worse.yaml"
    worse.write_text("crmconf: 2\n", encoding="utf-8")

    result = cli("validate", bad, good, worse)

    assert result.exit_code == 1
    assert result.stdout == f"{good}: valid (1 items in 1 managed kinds).\n"
    assert f"error: {bad}:2:20: " in result.stderr
    assert f"error: {worse}:1:10: unsupported format version 2" in result.stderr
    assert result.stderr.endswith("2 errors; nothing was changed.\n")


def test_validate_passes_when_every_path_is_valid(cli: Cli, tmp_path: Path) -> None:
    first = tmp_path / "first.yaml"
    first.write_text(GOOD, encoding="utf-8")
    second = tmp_path / "second.yml"
    second.write_text("crmconf: 1\nstatus_types: [Aktiv]\n", encoding="utf-8")

    result = cli("validate", first, second)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"{first}: valid (1 items in 1 managed kinds).",
        f"{second}: valid (1 items in 1 managed kinds).",
    ]


def test_validate_still_needs_a_path(cli: Cli) -> None:
    result = cli("validate")

    assert result.exit_code == 1  # a usage error: 2 would read as "changes" in CI
    assert "Missing argument" in result.output


def _readme_hooks() -> str:
    """The README's pre-commit configuration, the YAML block that declares local hooks."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", readme, flags=re.DOTALL)
    [block] = [block for block in blocks if block.startswith("repos:\n  - repo: local")]
    return block


def test_the_readme_configuration_runs_as_written(tmp_path: Path) -> None:
    folder = tmp_path / "repository"
    (folder / "crm").mkdir(parents=True)
    (folder / ".pre-commit-config.yaml").write_text(_readme_hooks(), encoding="utf-8")
    (folder / "crm" / "settings.yaml").write_text(MESSY, encoding="utf-8")
    (folder / "elsewhere.yaml").write_text(BAD, encoding="utf-8")  # outside files: ^crm/
    _git(folder, "init", "--quiet")
    _git(folder, "add", "--all")

    run = subprocess.run(
        [str(BIN / "pre-commit"), "run", "--all-files"],
        cwd=folder,
        env=_environment(folder),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert run.returncode == 1, run.stdout + run.stderr  # fmt rewrote a file: review it
    assert re.search(r"crmconf validate\.+Passed", run.stdout), run.stdout
    assert re.search(r"crmconf fmt\.+Failed", run.stdout), run.stdout
    formatted = (folder / "crm" / "settings.yaml").read_text(encoding="utf-8")
    assert formatted == "crmconf: 1\nindustries:\n  - Bygg     # the first customers\n  - Turism\n"
