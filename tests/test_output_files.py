"""Where crmconf writes files (export -o, schema -o, plan -o, fmt): regular files only.

Writing is atomic (a temporary file renamed over the old one), which is right for a
regular file and wrong for anything else: it would replace a device, a pipe or the link
to one with a regular file. Those are refused; `-o -` is standard output.
"""

from __future__ import annotations

import json
import os
import resource
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.conftest import SEED

OUTPUT_COMMANDS: dict[str, Callable[[Path, str], list[str]]] = {
    "export": lambda out, url: ["export", "--target", url, "-o", str(out)],
    "schema": lambda out, url: ["schema", "-o", str(out)],
    "plan": lambda out, url: ["plan", str(SEED), "--target", url, "-o", str(out)],
}


def _crmconf(
    *arguments: str, cwd: Path, limit_file_bytes: int | None = None
) -> subprocess.CompletedProcess[str]:
    def limit() -> None:
        if limit_file_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_bytes, limit_file_bytes))

    return subprocess.run(
        [sys.executable, "-m", "crmconf", *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        preexec_fn=limit,
    )


@pytest.mark.sqlite_only(reason="the destination is the subject, not the target")
@pytest.mark.parametrize("command", sorted(OUTPUT_COMMANDS))
def test_a_fifo_is_refused_not_replaced(command: str, demo_url: str, tmp_path: Path) -> None:
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    finished = _crmconf(*OUTPUT_COMMANDS[command](fifo, demo_url), cwd=tmp_path)
    assert finished.returncode == 1, finished.stdout + finished.stderr
    assert "Traceback" not in finished.stderr
    assert f"cannot write {fifo}: it is not a regular file" in finished.stderr
    assert "-o -" in finished.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode), "the FIFO was replaced"
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".out")] == []


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can make a character device")
@pytest.mark.parametrize("command", sorted(OUTPUT_COMMANDS))
def test_a_character_device_is_refused_not_replaced(command: str, tmp_path: Path) -> None:
    device = tmp_path / "null"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # what /dev/null is
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    _crmconf("sandbox", "init", "--demo", "--target", url, cwd=tmp_path)
    finished = _crmconf(*OUTPUT_COMMANDS[command](device, url), cwd=tmp_path)
    assert finished.returncode == 1, finished.stdout + finished.stderr
    assert "is not a regular file" in finished.stderr
    assert stat.S_ISCHR(device.lstat().st_mode), "the device was replaced by a regular file"


@pytest.mark.sqlite_only(reason="the destination is the subject, not the target")
@pytest.mark.parametrize("command", sorted(OUTPUT_COMMANDS))
def test_a_link_to_standard_output_is_refused_not_replaced(
    command: str, demo_url: str, tmp_path: Path
) -> None:
    link = tmp_path / "out"
    link.symlink_to("/proc/self/fd/1")
    finished = _crmconf(*OUTPUT_COMMANDS[command](link, demo_url), cwd=tmp_path)
    assert finished.returncode == 1, finished.stdout + finished.stderr
    assert "is not a regular file" in finished.stderr
    assert link.is_symlink() and os.readlink(link) == "/proc/self/fd/1"


def test_a_link_to_a_regular_file_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "schema.json"
    link.symlink_to(real.name)
    finished = _crmconf("schema", "-o", str(link), cwd=tmp_path)
    assert finished.returncode == 0, finished.stderr
    assert link.is_symlink()
    assert json.loads(real.read_text(encoding="utf-8"))["title"]


def test_a_directory_and_a_dangling_link_are_refused(tmp_path: Path) -> None:
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "nowhere" / "x.json")
    for path, what in ((tmp_path, "it is a directory"), (dangling, "a link to nothing")):
        finished = _crmconf("schema", "-o", str(path), cwd=tmp_path)
        assert finished.returncode == 1 and what in finished.stderr, finished.stderr
        assert "Traceback" not in finished.stderr


@pytest.mark.sqlite_only(reason="the destination is the subject, not the target")
def test_dash_writes_standard_output(demo_url: str, cli: Callable[..., Result]) -> None:
    exported = cli("export", "--target", demo_url, "-o", "-")
    assert exported.exit_code == 0, exported.output
    assert exported.stdout.startswith("# yaml-language-server") and "Wrote" not in exported.output
    schema = cli("schema", "-o", "-")
    assert schema.exit_code == 0 and json.loads(schema.stdout)["title"]
    planned = cli("plan", str(SEED), "--target", demo_url, "-o", "-")
    assert planned.exit_code == 0, planned.output
    assert json.loads(planned.stdout)["saved"]["target"] == demo_url  # the saved plan alone
    assert "Plan:" in planned.stderr


@pytest.mark.sqlite_only(reason="the destination is the subject, not the target")
@pytest.mark.parametrize("command", sorted(OUTPUT_COMMANDS))
def test_a_failed_write_leaves_no_temporary_file(
    command: str, demo_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "out" / "plan.json"
    out.parent.mkdir()
    finished = _crmconf(*OUTPUT_COMMANDS[command](out, demo_url), cwd=tmp_path, limit_file_bytes=64)
    assert finished.returncode == 1, finished.stdout + finished.stderr
    assert f"cannot write {out}" in finished.stderr and "Traceback" not in finished.stderr
    assert list(out.parent.iterdir()) == []


def test_fmt_of_a_failed_write_leaves_the_file_and_no_temporary_one(tmp_path: Path) -> None:
    text = "crmconf: 1\nindustries: [Turism, Bygg]\n"
    config = tmp_path / "fmt.yaml"
    config.write_text(text, encoding="utf-8")
    finished = _crmconf("fmt", str(config), cwd=tmp_path, limit_file_bytes=8)
    assert finished.returncode == 1, finished.stdout + finished.stderr
    assert "Traceback" not in finished.stderr
    assert config.read_text(encoding="utf-8") == text
    assert sorted(path.name for path in tmp_path.iterdir()) == ["fmt.yaml"]


def test_fmt_of_a_link_to_standard_output_leaves_it_alone(tmp_path: Path) -> None:
    link = tmp_path / "config.yaml"
    link.symlink_to("/proc/self/fd/1")
    finished = _crmconf("fmt", str(link), cwd=tmp_path)
    assert finished.returncode == 1, finished.stdout + finished.stderr
    assert "not a regular file" in finished.stderr and "Traceback" not in finished.stderr
    assert link.is_symlink() and os.readlink(link) == "/proc/self/fd/1"
