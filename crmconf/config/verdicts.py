"""Remembered `crmconf validate` verdicts, so an unchanged configuration is not read again.

Validation runs in pre-commit hooks and editors on every save, where start-up time
is most of the cost. As ruff and mypy do, crmconf keeps what it found for content
it has checked: the verdict of a configuration that validated (its item counts and
lint warnings), keyed by the bytes and real paths of every file, the options that
change the verdict, and crmconf's own code together with the libraries that decide
validity. Any difference is a miss and the configuration is validated in full. A
hit imports neither PyYAML nor pydantic.

Not remembered: configurations that did not validate, files using `${VARIABLES}`
(their values come from outside the files), environment layouts (base/ + envs/).

The cache lives in $CRMCONF_CACHE_DIR, else $XDG_CACHE_HOME/crmconf, else
~/.cache/crmconf: a directory only its owner may write (otherwise it is not used),
holding small JSON files — data, never code. $CRMCONF_NO_CACHE=1 or
`validate --no-cache` turn it off.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
from dataclasses import dataclass
from importlib.machinery import PathFinder
from pathlib import Path

from crmconf.config.files import (
    OUTSIDE_ROOT_ALLOWED,
    configuration_files,
    is_layout,
    read_bytes,
)
from crmconf.errors import ConfigError

CACHE_VARIABLE = "CRMCONF_CACHE_DIR"
OFF_VARIABLE = "CRMCONF_NO_CACHE"
FORMAT = "crmconf-validate-verdict-1"
MAX_ENTRIES = 2_000
"""Verdicts kept; past this the older half is dropped when the next one is written."""

_DECIDING_LIBRARIES = ("pydantic", "pydantic_core", "yaml", "click")


@dataclass(frozen=True)
class Verdict:
    """What validating a configuration found: it is valid, with these counts and warnings."""

    items: int
    kinds: int
    warnings: tuple[str, ...]


def cache_directory() -> Path | None:
    """Where verdicts are kept; None when caching is off."""
    if os.environ.get(OFF_VARIABLE, "") not in ("", "0"):
        return None
    given = os.environ.get(CACHE_VARIABLE)
    if given:
        return Path(given)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "crmconf"


class Verdicts:
    """The verdict store of one cache directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory / "verdicts"

    def key(self, path: Path, strict: bool) -> str | None:
        """The key of validating path now; None where the verdict is not remembered."""
        try:
            if is_layout(path):
                return None  # an environment layout: validated per environment
            files = configuration_files(path)
            parts: list[object] = [
                FORMAT,
                _code_fingerprint(),
                strict,
                OUTSIDE_ROOT_ALLOWED.get(),
                str(path),
                os.path.realpath(path),
            ]
            for file in files:
                data = read_bytes(file)
                if b"${" in data:
                    return None  # variables: the verdict depends on the environment
                parts.append((str(file), os.path.realpath(file), _sha256(data)))
        except (ConfigError, OSError):
            return None  # the full validation reports it
        return _sha256(json.dumps(parts).encode())

    def get(self, key: str) -> Verdict | None:
        """The verdict remembered under key, if any (and if the cache may be trusted)."""
        if not _private(self.directory):
            return None
        entry = self.directory / f"{key}.json"
        try:
            if not entry.is_file():  # a FIFO would wait for a writer for ever
                return None
            with entry.open("rb") as handle:
                data = json.loads(handle.read(1_000_000))
            return Verdict(
                int(data["items"]), int(data["kinds"]), tuple(str(w) for w in data["warnings"])
            )
        except (OSError, ValueError, KeyError, TypeError, RecursionError):
            return None

    def put(self, key: str, verdict: Verdict) -> None:
        """Remember a verdict; a cache that cannot be written is simply not used."""
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not _private(self.directory):
                return
            payload = json.dumps(
                {"items": verdict.items, "kinds": verdict.kinds, "warnings": verdict.warnings}
            )
            import tempfile  # only on a miss: it costs a few ms to import

            handle, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(payload)
            os.replace(temporary, self.directory / f"{key}.json")
            self._trim()
        except OSError:
            return

    def _trim(self) -> None:
        entries = list(os.scandir(self.directory))
        if len(entries) <= MAX_ENTRIES:
            return
        entries.sort(key=lambda entry: entry.stat().st_mtime)
        for entry in entries[: len(entries) // 2]:
            try:
                os.unlink(entry.path)
            except OSError:
                continue


def _private(directory: Path) -> bool:
    """Whether the directory is the user's own and nobody else may write to it."""
    try:
        status = directory.stat()
    except OSError:
        return False
    writable_by_others = status.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    return stat.S_ISDIR(status.st_mode) and status.st_uid == os.getuid() and not writable_by_others


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_fingerprint: str | None = None


def _code_fingerprint() -> str:
    """crmconf's own source files and the libraries deciding validity, as installed now.

    Sizes and modification times, not contents: reading ~100 small files would cost
    what the cache saves; any edit or reinstall changes them.
    """
    global _fingerprint
    if _fingerprint is None:
        package = Path(__file__).resolve().parent.parent
        seen: list[object] = [sys.version]
        for root, directories, files in os.walk(package):
            directories.sort()
            for name in sorted(files):
                if name.endswith(".py"):
                    status = os.stat(os.path.join(root, name))
                    seen.append((os.path.join(root, name), status.st_size, status.st_mtime_ns))
        for library in _DECIDING_LIBRARIES:
            spec = PathFinder.find_spec(library)  # where it is, without importing it
            origin = spec.origin if spec is not None else None
            if origin is not None:
                status = os.stat(origin)
                seen.append((library, origin, status.st_size, status.st_mtime_ns))
        _fingerprint = _sha256(json.dumps(seen).encode())
    return _fingerprint
