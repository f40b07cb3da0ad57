"""The package a user installs: sdist and wheel built with `build`, the wheel installed
into a fresh virtual environment with its own dependencies, and run there.

The wheel is installed by the CI examples' own `pip install` line, as written. The
development venv is not used by what runs: the new venv has no crmconf source tree, no
dev extras and no site packages of ours, so a file missing from the wheel (a WSDL) or a
dependency missing from pyproject.toml fails here. pip takes the dependencies from its
usual index and cache, as a user's `pip install` would. It takes ~35 s (the isolated
build ~12 s, installing ~15 s) on the 2-core machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from email.parser import Parser
from pathlib import Path

import pytest
import yaml

from crmconf.testing import FakeTwentyFour
from tests.conftest import ROOT

PIP = [sys.executable, "-m", "pip"]


def _run(command: list[str | Path], **options: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        timeout=600,
        **options,  # type: ignore[call-overload]
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """The sdist, and the wheel `build` makes from that sdist (so the sdist is complete)."""
    out = tmp_path_factory.mktemp("dist")
    run = _run([sys.executable, "-m", "build", "--outdir", out, ROOT])
    assert run.returncode == 0, run.stdout + run.stderr
    [sdist] = out.glob("crmconf-*.tar.gz")
    [wheel] = out.glob("crmconf-*.whl")
    yield sdist, wheel


def _metadata(wheel: Path) -> dict[str, str]:
    with zipfile.ZipFile(wheel) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return dict(Parser().parsestr(archive.read(name).decode()).items())


def test_the_wheel_holds_the_package_data(built: tuple[Path, Path]) -> None:
    with zipfile.ZipFile(built[1]) as archive:
        names = set(archive.namelist())

    wsdls = sorted(n for n in names if n.startswith("crmconf/targets/twentyfour/wsdl/"))
    assert len(wsdls) == len(list((ROOT / "crmconf/targets/twentyfour/wsdl").glob("*.wsdl")))
    assert not any(name.startswith("tests/") for name in names)


def test_version_is_the_package_metadata(installed: Path, built: tuple[Path, Path]) -> None:
    run = _run([installed / "crmconf", "--version"])

    assert run.returncode == 0, run.stderr
    assert run.stdout == f"crmconf, version {_metadata(built[1])['Version']}\n"


def test_the_installed_command_makes_a_sandbox_and_plans(installed: Path, tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CRMCONF_")}
    environment["PATH"] = f"{installed}{os.pathsep}{environment.get('PATH', '')}"

    init = _run(["crmconf", "sandbox", "init", "--demo"], cwd=tmp_path, env=environment)
    plan = _run(["crmconf", "plan", ROOT / "examples/seed.yaml"], cwd=tmp_path, env=environment)

    assert init.returncode == 0, init.stderr
    assert plan.returncode == 0, plan.stderr
    assert plan.stdout.endswith("Plan: 9 to add, 7 to change, 3 to delete.\n")


def test_the_installed_command_reaches_24sevenoffice_with_its_wsdls(
    installed: Path, tmp_path: Path
) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CRMCONF_")}
    environment["NO_PROXY"] = environment["no_proxy"] = "127.0.0.1,localhost"
    with FakeTwentyFour() as fake:
        run = _run(
            [installed / "crmconf", "24so", "users", "--target", "24so://"],
            cwd=tmp_path,
            env={**environment, **fake.env()},
        )

    assert run.returncode == 0, run.stderr
    assert "101\tKari Nordmann" in run.stdout.splitlines()


def _install_lines() -> list[tuple[str, str]]:
    """Every `pip install` line of the CI examples, with the file it is in."""
    from tests.test_review_ci import EXAMPLES, _scripts

    found = []
    for path in EXAMPLES:
        for script in _scripts(yaml.safe_load(path.read_text(encoding="utf-8"))):
            found += [(path.name, line.strip()) for line in script.splitlines() if "pip " in line]
    return found


def test_the_ci_examples_install_crmconf_as_the_readme_says() -> None:
    lines = _install_lines()

    assert {name for name, _line in lines} == {"github-actions.yml", "gitlab-ci.yml"}
    assert {line for _name, line in lines} == {"pip install tools/crmconf-*.whl"}
    assert "pip install tools/crmconf-*.whl" in (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def installed(built: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding only the wheel and the dependencies it declares, installed by
    the CI examples' own line as written: in a configuration repository holding the wheel
    under tools/, with `pip` that of the venv (as setup-python or the python image give)."""
    [(_name, line), *_others] = _install_lines()
    root = tmp_path_factory.mktemp("installed")
    repository = root / "repository"
    (repository / "tools").mkdir(parents=True)
    shutil.copy(built[1], repository / "tools")
    venv = root / "venv"
    created = _run([sys.executable, "-m", "venv", "--without-pip", venv])
    assert created.returncode == 0, created.stderr
    shims = root / "shims"
    shims.mkdir()
    pip = shims / "pip"  # the dev venv's pip installing into the new one: no ensurepip (12 s)
    pip.write_text(
        f'#!/bin/sh\nexec {sys.executable} -m pip --python {venv}/bin/python "$@" --no-compile\n'
    )
    pip.chmod(0o755)
    environment = {**os.environ, "PATH": f"{shims}{os.pathsep}/usr/bin{os.pathsep}/bin"}

    run = _run(["sh", "-c", line], cwd=repository, env=environment)

    assert run.returncode == 0, run.stdout + run.stderr
    return venv / "bin"
