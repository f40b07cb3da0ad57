"""The corpus of bad inputs: each is refused with a located message, no traceback, no write.

Cases and the errors they must give are listed in tests/bad_inputs/cases.yaml. Inputs
that are huge, hostile or cannot be committed (a FIFO, a symlink loop, invalid UTF-8)
are written at test time by the generators below.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from crmconf.cli import main
from crmconf.config import yaml_source
from crmconf.config.files import MAX_FILE_BYTES
from crmconf.config.reading import load
from crmconf.errors import ConfigError
from tests.strategies import table_rows

BAD_INPUTS = Path(__file__).parent / "bad_inputs"
MANIFEST = BAD_INPUTS / "cases.yaml"
PROCESS_MEMORY = 1024**3
"""Address space a crmconf process may take, so that a bug cannot exhaust the machine."""
PROCESS_SECONDS = 60
"""How long a crmconf process may run when its case sets no limit."""
BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Limits:
    seconds: float
    megabytes: float


@dataclass(frozen=True)
class Case:
    id: str
    path: str | None = None
    generate: str | None = None
    at: str | None = None
    message: str | None = None
    target: str = "fresh"
    accept: bool = False
    process: bool = False
    limits: Limits | None = None
    unless: str | None = None


def _read_manifest() -> list[Case]:
    cases = []
    for entry in yaml.safe_load(MANIFEST.read_text(encoding="utf-8")):
        entry = dict(entry)
        limits = entry.pop("limits", None)
        cases.append(Case(**entry, limits=Limits(**limits) if limits else None))
    return cases


CASES = _read_manifest()


# Generators: each writes its case into a folder and returns the path to give crmconf.

Generator = Callable[[Path], Path]
GENERATORS: dict[str, Generator] = {}


def generator(function: Generator) -> Generator:
    GENERATORS[function.__name__] = function
    return function


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


@generator
def billion_laughs(folder: Path) -> Path:
    lines = ["crmconf: 1", "industries:", "  - &l0 [" + ", ".join(["lol"] * 10) + "]"]
    lines += [f"  - &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, 10)]
    return _write(folder, "billion_laughs.yaml", "\n".join(lines).encode() + b"\n")


@generator
def nesting_flow(folder: Path) -> Path:
    text = "crmconf: 1\nindustries: " + "[" * 10_000 + "]" * 10_000 + "\n"
    return _write(folder, "nesting_flow.yaml", text.encode())


@generator
def nesting_block(folder: Path) -> Path:
    text = "crmconf: 1\nindustries:\n" + "- " * 10_000 + "Bygg\n"
    return _write(folder, "nesting_block.yaml", text.encode())


@generator
def file_20_mb(folder: Path) -> Path:
    size = 20 * 1024 * 1024
    assert size > MAX_FILE_BYTES, "MAX_FILE_BYTES now admits 20 MB: expect this case to load"
    path = folder / "file_20_mb.yaml"
    with path.open("wb") as handle:
        handle.write(b"crmconf: 1\nindustries:\n")
        number = 0
        while handle.tell() < size:
            handle.write(b"".join(b"  - Bransch %07d\n" % (number + i) for i in range(10_000)))
            number += 10_000
    return path


@generator
def invalid_utf8(folder: Path) -> Path:
    return _write(folder, "invalid_utf8.yaml", b"crmconf: 1\nindustries: [Bygg, Caf\xe9]\n")


@generator
def invalid_utf8_after_multibyte(folder: Path) -> Path:
    text = "crmconf: 1\ncustomer_info:\n  contact_origins: [Mässa, Caf".encode() + b"\xe9]\n"
    return _write(folder, "invalid_utf8_after_multibyte.yaml", text)


@generator
def invalid_utf8_after_bom(folder: Path) -> Path:
    text = BOM + b"crmconf: 1\nindustries: [Bygg]\nstatus_types: [Aktiv\xff]\n"
    return _write(folder, "invalid_utf8_after_bom.yaml", text)


@generator
def nul_byte(folder: Path) -> Path:
    return _write(folder, "nul_byte.yaml", b"crmconf: 1\nindustries: [Bygg, Tur\x00ism]\n")


@generator
def nul_byte_cr(folder: Path) -> Path:
    text = b"crmconf: 1\rindustries: [Bygg]\rstatus_types: [Akt\x00iv]\r"
    return _write(folder, "nul_byte_cr.yaml", text)


@generator
def byte_order_mark(folder: Path) -> Path:
    # The demo CRM's industries exactly: valid, and planning it against the demo is empty.
    text = BOM + b"crmconf: 1\nindustries: [Bygg, Data/IT, Turism]\n"
    return _write(folder, "byte_order_mark.yaml", text)


@generator
def byte_order_mark_error(folder: Path) -> Path:
    return _write(folder, "byte_order_mark_error.yaml", BOM + b"crmconf: 2\n")


@generator
def empty_directory(folder: Path) -> Path:
    path = folder / "empty_directory"
    path.mkdir()
    return path


@generator
def unreadable_directory(folder: Path) -> Path:
    path = folder / "unreadable_directory"
    path.mkdir()
    (path / "a.yaml").write_text("crmconf: 1\n", encoding="utf-8")
    path.chmod(0)
    return path


@generator
def directory_with_fifo(folder: Path) -> Path:
    path = folder / "directory_with_fifo"
    path.mkdir()
    os.mkfifo(path / "a.yaml")
    return path


@generator
def directory_with_symlink_loop(folder: Path) -> Path:
    path = folder / "directory_with_symlink_loop"
    path.mkdir()
    (path / "a.yaml").symlink_to("b.yaml")
    (path / "b.yaml").symlink_to("a.yaml")
    return path


@generator
def directory_with_dev_zero(folder: Path) -> Path:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    path = folder / "directory_with_dev_zero"
    path.mkdir()
    (path / "a.yaml").symlink_to("/dev/zero")
    return path


@generator
def directory_with_directory(folder: Path) -> Path:
    path = folder / "directory_with_directory"
    path.mkdir()
    (path / "a.yaml").mkdir()
    return path


@generator
def missing_path(folder: Path) -> Path:
    return folder / "missing.yaml"


# Running crmconf


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    output: str
    """stdout and stderr together."""
    escaped: str | None
    """An exception that escaped crmconf (a traceback), if any."""


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (PROCESS_MEMORY, PROCESS_MEMORY))


def run_crmconf(case: Case, *arguments: str | Path, cwd: Path) -> Outcome:
    """crmconf as a user runs it: in a real process for some cases, else in-process."""
    arguments = tuple(str(argument) for argument in arguments)
    if not case.process:
        result = CliRunner().invoke(main, list(arguments))
        escaped = None
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            escaped = f"{type(result.exception).__name__}: {result.exception}"
        return Outcome(result.exit_code, result.output, escaped)
    seconds = case.limits.seconds + 2 if case.limits else PROCESS_SECONDS
    try:
        finished = subprocess.run(
            [sys.executable, "-m", "crmconf", *arguments],
            capture_output=True,
            text=True,
            timeout=seconds,
            cwd=cwd,
            preexec_fn=_limit_memory,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"crmconf {' '.join(arguments)} did not finish within {seconds} s")
    output = finished.stdout + finished.stderr
    escaped = output if "Traceback" in output else None
    return Outcome(finished.returncode, output, escaped)


def _problems(output: str) -> list[str]:
    """The reported errors, each with its hint lines."""
    blocks: list[str] = []
    for line in output.splitlines():
        if line.startswith("error: "):
            blocks.append(line.removeprefix("error: "))
        elif line.startswith("  ") and blocks:
            blocks[-1] += "\n" + line
    return blocks


def assert_refused(outcome: Outcome, case: Case, base: Path) -> None:
    assert outcome.escaped is None, f"a traceback escaped:\n{outcome.escaped}"
    assert outcome.exit_code == 1, outcome.output
    assert case.at is not None and case.message is not None
    file, *position = case.at.split(":")
    where = re.escape(f"{base / file}:{position[0]}:")
    where += re.escape(f"{position[1]}: ") if len(position) > 1 else r"\d+: "
    problems = _problems(outcome.output)
    located = [problem for problem in problems if re.match(where, problem)]
    assert located, f"no error at {base / case.at}; got:\n{outcome.output}"
    assert any(case.message in problem for problem in located), (
        f"no error at {base / case.at} says {case.message!r}; got:\n{outcome.output}"
    )


# Fixtures


@pytest.fixture(params=CASES, ids=[case.id for case in CASES])
def case(request: pytest.FixtureRequest) -> Case:
    chosen: Case = request.param
    if chosen.unless == "root" and os.geteuid() == 0:
        pytest.skip("root reads files whatever their permissions")
    return chosen


@dataclass(frozen=True)
class Prepared:
    path: Path
    """What to give crmconf."""
    base: Path
    """The folder the case's `at` is relative to."""


@pytest.fixture
def prepared(case: Case, tmp_path: Path) -> Iterator[Prepared]:
    if case.path is not None:
        yield Prepared(BAD_INPUTS / case.path, BAD_INPUTS)
        return
    assert case.generate is not None, f"{case.id}: give a path or a generator"
    folder = tmp_path / "case"
    folder.mkdir()
    try:
        yield Prepared(GENERATORS[case.generate](folder), folder)
    finally:
        for directory, _dirs, _files in os.walk(folder):
            Path(directory).chmod(0o700)


# The corpus


def test_the_corpus_is_complete() -> None:
    assert len(CASES) >= 40
    assert len({case.id for case in CASES}) == len(CASES), "case ids must be unique"
    listed = {Path(case.path).parts[0] for case in CASES if case.path}
    on_disk = {path.name for path in BAD_INPUTS.iterdir() if path.name != MANIFEST.name}
    assert on_disk == listed, "every file under tests/bad_inputs/ is one case, and vice versa"
    for case in CASES:
        assert (case.path is None) != (case.generate is None), case.id
        assert case.generate is None or case.generate in GENERATORS, case.id
        assert case.accept or (case.at and case.message), case.id


def test_validate(case: Case, prepared: Prepared, tmp_path: Path) -> None:
    outcome = run_crmconf(case, "validate", prepared.path, cwd=tmp_path)
    if case.accept or case.target == "demo":
        assert outcome.escaped is None, outcome.escaped
        assert outcome.exit_code == 0, outcome.output
        assert "valid" in outcome.output
    else:
        assert_refused(outcome, case, prepared.base)


@pytest.mark.sqlite_only(reason="reads every table through sqlite3 (strategies.table_rows)")
def test_plan_writes_nothing(
    case: Case, prepared: Prepared, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url: str = request.getfixturevalue("demo_url" if case.target == "demo" else "sandbox_url")
    before = table_rows(url)
    outcome = run_crmconf(case, "plan", prepared.path, "--target", url, cwd=tmp_path)
    if case.accept:
        assert outcome.escaped is None, outcome.escaped
        assert outcome.exit_code == 0, outcome.output
        assert "No changes." in outcome.output
    else:
        assert_refused(outcome, case, prepared.base)
    assert table_rows(url) == before, "planning a bad input wrote to the target"


_MEASURE = textwrap.dedent(
    """
    import json, resource, sys, time
    from crmconf.config.reading import load
    from crmconf.errors import ConfigError

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    outcome = {}
    try:
        load(sys.argv[1])
        outcome["loaded"] = True
    except ConfigError as error:
        outcome["problems"] = [str(problem) for problem in error.problems[:3]]
        outcome["located"] = all(problem.location for problem in error.problems)
    outcome["seconds"] = time.perf_counter() - start
    outcome["megabytes"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    print(json.dumps(outcome))
    """
)


@pytest.mark.parametrize(
    "case", [case for case in CASES if case.limits], ids=lambda case: case.id, indirect=True
)
def test_refusal_stays_within_limits(case: Case, prepared: Prepared, tmp_path: Path) -> None:
    """Time and peak memory of loading, measured in a fresh process (imports excluded)."""
    assert case.limits is not None
    seconds = case.limits.seconds * 2 + 2
    try:
        finished = subprocess.run(
            [sys.executable, "-c", _MEASURE, str(prepared.path)],
            capture_output=True,
            text=True,
            timeout=seconds,
            cwd=tmp_path,
            preexec_fn=_limit_memory,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"loading {case.id} did not finish within {seconds} s")
    assert finished.returncode == 0, finished.stderr[-3000:]
    measured = json.loads(finished.stdout)
    assert measured.get("problems") and measured["located"], measured
    assert measured["seconds"] <= case.limits.seconds, measured
    assert measured["megabytes"] <= case.limits.megabytes, measured


@pytest.mark.parametrize("generate", ["nesting_flow", "nesting_block", "billion_laughs"])
def test_pure_python_yaml_reader_refuses_hostile_input(
    generate: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where PyYAML has no libyaml, crmconf reads with PyYAML's own parser: same promises."""
    monkeypatch.setattr(yaml_source, "_Loader", yaml.SafeLoader)
    path = GENERATORS[generate](tmp_path)
    with pytest.raises(ConfigError) as refused:
        load(path)
    assert all(problem.location is not None for problem in refused.value.problems)
