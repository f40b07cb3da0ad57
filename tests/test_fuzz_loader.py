"""Fuzzing the loader: whatever bytes a configuration file holds, only clean errors come out.

`crmconf.config.reading.load` may succeed or raise `ConfigError` whose every problem
names a place in the file; nothing else, and within time and memory bounds. What loads
is then planned against the demo sandbox, where only located `ConfigError`s and
`PlanError`s may come out.

`make test` runs a short deterministic slice. `make fuzz` runs each target again and
again for CRMCONF_FUZZ_SECONDS (default 30) seconds. Crashes found become corpus cases
in tests/bad_inputs/.
"""

from __future__ import annotations

import contextlib
import os
import random
import resource
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from crmconf import api
from crmconf.config.reading import load
from crmconf.config.yaml_source import read_text
from crmconf.errors import ConfigError, PlanError
from crmconf.model.state import State
from crmconf.targets.base import Target
from tests.conftest import SEED
from tests.strategies import FUZZ, PROFILE, configurations, profile, to_yaml
from tests.test_yaml_fast_path import same_on_both_paths

SECONDS = 2.0
"""Longest one load and plan of a small file may take."""
MEGABYTES = 512
"""Address space one load and plan may add."""
FUZZ_SECONDS = float(os.environ.get("CRMCONF_FUZZ_SECONDS", "30"))


# Bounds


class OutOfBounds(Exception):
    """Loading took longer than SECONDS."""


@contextlib.contextmanager
def bounded() -> Iterator[None]:
    """Fail a load that runs past SECONDS or grows the address space by MEGABYTES."""

    def overtime(_signal: int, _frame: Any) -> None:
        raise OutOfBounds(f"loading took longer than {SECONDS} s")

    previous = signal.signal(signal.SIGALRM, overtime)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    page = os.sysconf("SC_PAGE_SIZE")
    with open("/proc/self/statm") as statm:
        in_use = int(statm.read().split()[0]) * page
    cap = in_use + MEGABYTES * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (min(cap, hard) if hard > 0 else cap, hard))
    signal.setitimer(signal.ITIMER_REAL, SECONDS)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        signal.signal(signal.SIGALRM, previous)


def _line_breaks(data: bytes) -> int:
    text = data.decode("utf-8", "replace")
    return sum(text.count(mark) for mark in "\n\r\x85\u2028\u2029")


def check_load(files: dict[Path, bytes], target: Target) -> None:
    """Write the files, load them (the one file, or their folder) and plan what loads."""
    for path, data in files.items():
        path.write_bytes(data)
    where = next(iter(files)) if len(files) == 1 else next(iter(files)).parent
    with bounded():
        try:
            config = load(where)
        except ConfigError as error:
            assert_located(error, files)
            return
        try:
            api.plan(config, target)
        except ConfigError as error:
            assert_located(error, files)
        except PlanError as error:
            assert str(error)


def assert_located(error: ConfigError, files: dict[Path, bytes]) -> None:
    assert error.problems, "a ConfigError without problems"
    by_name = {str(path): data for path, data in files.items()}
    for problem in error.problems:
        assert problem.message, problem
        location = problem.location
        assert location is not None, f"problem without a location: {problem}"
        assert location.file in by_name, f"{location} is not one of the files read"
        data = by_name[location.file]
        # libyaml puts the end of a file without a final line break on one line more.
        lines = _line_breaks(data) + 1 + (not data.endswith((b"\n", b"\r")))
        assert 1 <= location.line <= lines, f"{location} is past the last line ({lines})"
        assert location.column >= 1, location
    assert str(error)


def run(check: Callable[[], None]) -> None:
    """Once in the slice; under `make fuzz`, again with new randomness for FUZZ_SECONDS."""
    check()
    deadline = time.monotonic() + FUZZ_SECONDS
    while PROFILE == FUZZ and time.monotonic() < deadline:
        check()


# Inputs

SEED_BYTES = SEED.read_bytes()
TOKENS = (
    *("crmconf", "crmconf: 1\n", ": ", ":", "1", "2", "-1", "\n", "\r\n", "\r", "  ", "    "),
    *("\t", "- ", "-", "[", "]", "{", "}", ", ", ",", "'", '"', "''", "#", " # x", "&a ", "*a"),
    *("&b ", "*b", "!!python/object:os.system ", "!!str ", "!!int ", "!!binary ", "!local "),
    *("!!set ", "!!omap ", "? ", "|", "|-", ">", ">+", "---\n", "...\n", "%YAML 1.1\n"),
    *("%TAG ! tag:x,2000:\n", "<<: ", "~", "null", "No", "on", "yes", "1.0", "0o17", "017"),
    *("0x1F", "1_000", "2024-01-31", "12:30:00", "1e400", ".inf", ".nan", "9" * 5000),
    *("\\", "\\x", "\\u12", "\\U0010ffff", "\x00", "\ufeff", "\x85", "\u2028", "é", "🎉"),
    *("industries", "status_types", "categories", "groups", "sales", "stages", "types"),
    *("rejection_reasons", "customer_info", "contact_origins", "products", "sources"),
    *("show_as_tab", "features", "restore_customers", "name", "title", "probability"),
    *("status", "open", "closed_lost", "Öppen – vunnen", "rejection_reason", "show_on"),
    *("both", "type", "sales", "Försäljning", "members", "children", "renamed_from"),
    *("description", "anna@example.com", "olle@example.com", "Bygg", "Data/IT", "Pris"),
    *("removed", "safety", "max_deletes", "max_change_fraction", "move_customers_to"),
)
_TOKEN_BYTES = [token.encode("utf-8") for token in TOKENS]

token_soup = st.lists(st.sampled_from(_TOKEN_BYTES), max_size=80).map(b"".join)


@st.composite
def mutated_seed(draw: st.DrawFn) -> bytes:
    """examples/seed.yaml with bytes flipped, inserted, deleted, and lines moved."""
    data = bytearray(SEED_BYTES)
    for _ in range(draw(st.integers(1, 6))):
        operation = draw(st.sampled_from(["flip", "insert", "token", "delete", "line", "indent"]))
        at = draw(st.integers(0, len(data)))
        if operation == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif operation == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif operation == "token":
            data[at:at] = draw(st.sampled_from(_TOKEN_BYTES))
        elif operation == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        else:
            lines = bytes(data).split(b"\n")
            index = draw(st.integers(0, len(lines) - 1))
            if operation == "line":
                lines.insert(draw(st.integers(0, len(lines))), lines[index])
            else:
                lines[index] = b" " * draw(st.integers(1, 3)) + lines[index]
            data = bytearray(b"\n".join(lines))
    return bytes(data)


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.integers(-(10**60), 10**60),
    st.floats(),
    st.sampled_from(TOKENS),
    st.text(max_size=12),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(TOKENS), st.text(max_size=8)), children, max_size=4
        ),
    ),
    max_leaves=20,
)
_NO_USERS = State({}, frozenset({"anna@example.com", "erik@example.com"}))


def _places(value: Any) -> Iterator[tuple[Any, Any]]:
    """Every (container, key or index) in a document."""
    if isinstance(value, dict):
        for key in list(value):
            yield value, key
            yield from _places(value[key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield value, index
            yield from _places(item)


@st.composite
def near_valid_documents(draw: st.DrawFn) -> bytes:
    """A valid configuration with a few values replaced, removed, misspelt or wrapped,
    written in a random YAML style: errors deep in validation and cross-checks."""
    document = draw(configurations(_NO_USERS))
    for _ in range(draw(st.integers(0, 3))):
        places = list(_places(document))
        if not places:
            break
        container, key = draw(st.sampled_from(places))
        change = draw(st.sampled_from(["replace", "remove", "misspell", "wrap", "copy"]))
        if change == "replace":
            container[key] = draw(_VALUES)
        elif change == "remove":
            del container[key]
        elif change == "misspell" and isinstance(key, str):
            spelt = draw(st.sampled_from([key[:-1], key + "s", key.upper(), key.replace("_", "")]))
            container[spelt] = container.pop(key)
        elif change == "wrap":
            container[key] = draw(st.sampled_from([[container[key]], {"name": container[key]}]))
        elif change == "copy" and isinstance(container, list):
            container.append(container[key])  # the same item twice, maybe as an alias
    style = draw(st.sampled_from(["quoted", "block", "flow", "canonical", "plain"]))
    if style == "quoted":
        return to_yaml(document).encode()
    return yaml.dump(
        document,
        allow_unicode=draw(st.booleans()),
        default_flow_style={"block": False, "flow": True}.get(style),
        canonical=style == "canonical",
        sort_keys=False,
    ).encode("utf-8")


@st.composite
def alias_documents(draw: st.DrawFn) -> bytes:
    """Anchors and aliases nested to random depth and fan-out, around crmconf's limit;
    some refer to an enclosing anchor."""
    depth, fan_out = draw(st.integers(1, 7)), draw(st.integers(1, 12))
    section = draw(st.sampled_from(["industries", "status_types", "x", "groups"]))
    lines = ["crmconf: 1", f"{section}:", "  - &a0 [lol]"]
    for level in range(1, depth + 1):
        aliases = [f"*a{draw(st.integers(0, level - 1))}" for _ in range(fan_out)]
        if draw(st.integers(0, 9)) == 0:
            aliases.append(f"*a{level}")  # refers to itself
        lines.append(f"  - &a{level} [{', '.join(aliases)}]")
    return ("\n".join(lines) + "\n").encode()


# Targets


def _file(tmp_path: Path) -> Path:
    return tmp_path / "fuzz.yaml"


def test_random_bytes(tmp_path: Path, demo_target: Target) -> None:
    @profile(slice_examples=100)
    @given(st.binary(max_size=600))
    def check(data: bytes) -> None:
        check_load({_file(tmp_path): data}, demo_target)

    run(check)


def test_random_text(tmp_path: Path, demo_target: Target) -> None:
    @profile(slice_examples=100)
    @given(st.text(max_size=300))
    def check(text: str) -> None:
        check_load({_file(tmp_path): text.encode("utf-8", "surrogatepass")}, demo_target)

    run(check)


def test_yaml_token_soup(tmp_path: Path, demo_target: Target) -> None:
    @profile(slice_examples=120)
    @given(token_soup)
    def check(data: bytes) -> None:
        check_load({_file(tmp_path): data}, demo_target)

    run(check)


def test_mutated_seed(tmp_path: Path, demo_target: Target) -> None:
    @profile(slice_examples=120)
    @given(mutated_seed())
    def check(data: bytes) -> None:
        check_load({_file(tmp_path): data}, demo_target)

    run(check)


def test_near_valid_documents(tmp_path: Path, demo_target: Target) -> None:
    @profile(slice_examples=60)
    @given(near_valid_documents())
    def check(data: bytes) -> None:
        check_load({_file(tmp_path): data}, demo_target)

    run(check)


def test_aliases(tmp_path: Path, demo_target: Target) -> None:
    @profile(slice_examples=40)
    @given(alias_documents())
    def check(data: bytes) -> None:
        check_load({_file(tmp_path): data}, demo_target)

    run(check)


def test_directories(tmp_path: Path, demo_target: Target) -> None:
    """Two files in one folder: items spread, repeated or conflicting across them."""
    folder = tmp_path / "configuration"
    folder.mkdir()

    @profile(slice_examples=40)
    @given(near_valid_documents(), near_valid_documents(), st.randoms(use_true_random=False))
    def check(first: bytes, second: bytes, rng: random.Random) -> None:
        names = rng.sample(["a.yaml", "b.yml", "c.yaml"], 2)
        for stale in folder.iterdir():
            stale.unlink()
        check_load({folder / names[0]: first, folder / names[1]: second}, demo_target)

    run(check)


def test_the_fast_path_and_the_full_builder_agree() -> None:
    """Valid or not, a file reads the same on the loader's fast path as on the full
    builder (the reference): same values, problems and locations (test_yaml_fast_path)."""

    @profile(slice_examples=150)
    @given(st.one_of(token_soup, mutated_seed(), near_valid_documents(), alias_documents()))
    def check(data: bytes) -> None:
        try:
            text = read_text("fuzz.yaml", data)
        except ConfigError:
            return  # not UTF-8 or too large: refused before either builder runs
        with bounded():
            same_on_both_paths("fuzz.yaml", text)

    run(check)
