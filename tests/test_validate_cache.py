"""`crmconf validate` remembers the verdict on files that validated (crmconf.config.verdicts).

What a hit prints is what a full validation prints; anything that could change the
verdict — the bytes, the options, the real paths, crmconf's code — is a miss; and a
hit reads no YAML and builds no model (checked in a fresh interpreter).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from crmconf.cli import main
from crmconf.config import verdicts

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "examples" / "seed.yaml"

WARNS = """\
crmconf: 1
sales:
  rejection_reasons: [Pris]
  stages:
    - {title: Vunnen, probability: 90, status: closed_won}
"""


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.delenv("CRMCONF_NO_CACHE")
    monkeypatch.setenv("CRMCONF_CACHE_DIR", str(directory))
    return directory


def _entries(cache: Path) -> list[Path]:
    return sorted((cache / "verdicts").glob("*.json")) if (cache / "verdicts").exists() else []


def _validate(*args: str) -> Result:
    return CliRunner().invoke(main, ["validate", *args])


def test_a_hit_prints_exactly_what_the_full_validation_printed(cache: Path, tmp_path: Path) -> None:
    config = tmp_path / "warns.yaml"
    config.write_text(WARNS, encoding="utf-8")
    first = _validate(str(config), str(SEED))
    assert first.exit_code == 0, first.output
    assert len(_entries(cache)) == 2
    second = _validate(str(config), str(SEED))
    assert (second.exit_code, second.stdout, second.stderr) == (
        first.exit_code,
        first.stdout,
        first.stderr,
    )
    assert "warning: " in second.stderr and "is won but its probability is 90" in second.stderr
    assert f"{SEED}: valid (" in second.stdout


def test_a_hit_reads_no_yaml_and_builds_no_model(cache: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        from crmconf.cli import main
        try:
            main(["validate", {str(SEED)!r}])
        except SystemExit as done:
            code = done.code
        heavy = sorted(m for m in ("yaml", "pydantic", "sqlalchemy") if m in sys.modules)
        print("HEAVY", ",".join(heavy) or "-", "EXIT", code)
        """
    )
    env = {**os.environ, "CRMCONF_CACHE_DIR": str(cache)}
    runs = [
        subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
        ).stdout
        for _ in range(2)
    ]
    assert "HEAVY pydantic,yaml EXIT 0" in runs[0]  # the first run validates in full
    assert "HEAVY - EXIT 0" in runs[1]  # the second only hashes and looks up
    assert runs[0].split("HEAVY")[0] == runs[1].split("HEAVY")[0]  # same report


def test_changed_bytes_are_validated_again(cache: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("crmconf: 1\nindustries: [Bank]\n", encoding="utf-8")
    assert _validate(str(config)).exit_code == 0
    config.write_text("crmconf: 1\nindustries: [Bank, bank]\n", encoding="utf-8")
    result = _validate(str(config))
    assert result.exit_code == 1
    assert "defined twice" in result.stderr
    assert len(_entries(cache)) == 1  # what did not validate is not remembered


def test_strict_is_its_own_verdict(cache: Path, tmp_path: Path) -> None:
    config = tmp_path / "warns.yaml"
    config.write_text(WARNS, encoding="utf-8")
    assert _validate(str(config)).exit_code == 0
    strict = _validate(str(config), "--strict")
    assert strict.exit_code == 1
    assert "is won but its probability is 90" in strict.stderr


def test_a_change_of_crmconf_itself_is_a_miss(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("crmconf: 1\nindustries: [Bank]\n", encoding="utf-8")
    assert _validate(str(config)).exit_code == 0
    monkeypatch.setattr(verdicts, "_fingerprint", "another version of crmconf")
    assert _validate(str(config)).exit_code == 0
    assert len(_entries(cache)) == 2


def test_the_fingerprint_follows_the_source_files(tmp_path: Path) -> None:
    before = verdicts._code_fingerprint()
    source = Path(verdicts.__file__)
    status = source.stat()
    try:
        os.utime(source, ns=(status.st_atime_ns, status.st_mtime_ns + 1_000_000_000))
        verdicts._fingerprint = None
        assert verdicts._code_fingerprint() != before
    finally:
        os.utime(source, ns=(status.st_atime_ns, status.st_mtime_ns))
        verdicts._fingerprint = None
    assert verdicts._code_fingerprint() == before


def test_a_link_allowed_once_is_not_allowed_for_ever(cache: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("crmconf: 1\nindustries: [Bank]\n", encoding="utf-8")
    directory = tmp_path / "config"
    directory.mkdir()
    (directory / "industries.yaml").symlink_to(outside)
    allowed = CliRunner().invoke(main, ["--allow-outside-root", "validate", str(directory)])
    assert allowed.exit_code == 0, allowed.output
    refused = _validate(str(directory))
    assert refused.exit_code == 1
    assert "leads outside the configuration directory" in refused.stderr


def test_files_with_variables_and_environment_layouts_are_not_remembered(
    cache: Path, tmp_path: Path
) -> None:
    config = tmp_path / "vars.yaml"
    config.write_text("crmconf: 1\nindustries: ['${INDUSTRY:-Bank}']\n", encoding="utf-8")
    assert _validate(str(config)).exit_code == 0
    layout = tmp_path / "layout"
    (layout / "base").mkdir(parents=True)
    (layout / "base" / "config.yaml").write_text("crmconf: 1\nindustries: [Bank]\n")
    assert _validate(str(layout)).exit_code == 0
    assert _entries(cache) == []


def test_the_cache_can_be_switched_off(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _validate(str(SEED), "--no-cache").exit_code == 0
    monkeypatch.setenv("CRMCONF_NO_CACHE", "1")
    assert _validate(str(SEED)).exit_code == 0
    assert _entries(cache) == []


def test_a_cache_others_may_write_is_not_trusted(cache: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("crmconf: 1\nindustries: [Bank]\n", encoding="utf-8")
    assert _validate(str(config)).exit_code == 0
    (entry,) = _entries(cache)
    # Someone else rewrites the verdict of a file that would now fail...
    config.write_text("crmconf: 1\nindustries: [Bank, bank]\n", encoding="utf-8")
    key = verdicts.Verdicts(cache).key(config, strict=False)
    assert key is not None
    forged = cache / "verdicts" / f"{key}.json"
    forged.write_text(json.dumps({"items": 1, "kinds": 1, "warnings": []}))
    assert _validate(str(config)).exit_code == 0  # the owner's own cache is believed
    # ...but a directory others may write to is not used at all.
    (cache / "verdicts").chmod(0o777)
    result = _validate(str(config))
    assert result.exit_code == 1
    assert "defined twice" in result.stderr
    assert entry.exists()


def test_a_damaged_entry_is_a_miss(cache: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("crmconf: 1\nindustries: [Bank]\n", encoding="utf-8")
    assert _validate(str(config)).exit_code == 0
    (entry,) = _entries(cache)
    entry.write_text("{not json")
    result = _validate(str(config))
    assert result.exit_code == 0
    assert "valid (1 items in 1 managed kinds)" in result.stdout
    assert json.loads(entry.read_text())["items"] == 1  # written again


@pytest.mark.parametrize(
    "damage",
    ["nested past recursion", "a FIFO"],
)
def test_an_entry_nested_too_deep_or_not_a_file_is_a_miss(
    cache: Path, tmp_path: Path, damage: str
) -> None:
    # A verdict nested past the recursion limit was a traceback out of every validate
    # (and so the pre-commit hook); a FIFO in its place made validate wait for ever.
    config = tmp_path / "config.yaml"
    config.write_text("crmconf: 1\nindustries: [Bank]\n", encoding="utf-8")
    assert _validate(str(config)).exit_code == 0
    (entry,) = _entries(cache)
    if damage == "a FIFO":
        entry.unlink()
        os.mkfifo(entry)
    else:
        entry.write_text("[" * 100_000)

    run = subprocess.run(
        [sys.executable, "-m", "crmconf", "validate", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "CRMCONF_CACHE_DIR": str(cache)},
    )

    assert run.returncode == 0, run.stderr
    assert "valid (1 items in 1 managed kinds)" in run.stdout


def test_old_verdicts_are_dropped(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(verdicts, "MAX_ENTRIES", 4)
    for number in range(7):
        config = tmp_path / f"config{number}.yaml"
        config.write_text(f"crmconf: 1\nindustries: [Bank {number}]\n", encoding="utf-8")
        assert _validate(str(config)).exit_code == 0
    assert 2 <= len(_entries(cache)) <= 4
