"""Which files a configuration path stands for, and reading them: no YAML, no models.

Kept apart from the loader so that what needs only the files (the validate cache,
`fmt`) does not import PyYAML or pydantic.
"""

from __future__ import annotations

import errno
import os
import stat
from contextvars import ContextVar
from pathlib import Path as FilePath

from crmconf.errors import ConfigError, CrmconfError, Location, Problem

YAML_SUFFIXES = (".yaml", ".yml")

BASE = "base"
"""A directory holding this folder is an environment layout (base/ + envs/NAME/)."""

ENVIRONMENTS = "envs"
"""The folder of a layout holding one overlay folder per environment."""

DROP = "drop"
"""The key of an overlay file naming the base's items an environment does not have."""

MAX_FILE_BYTES = 16 * 1024 * 1024
"""Largest configuration file read: far above any CRM's settings (100k items ≈ 4 MB)."""


def configuration_files(path: FilePath) -> list[FilePath]:
    """The files a path stands for: itself, or a directory's YAML files in name order."""
    _require_utf8_name(path)
    here = Location(str(path))
    try:
        if path.is_dir():
            files = sorted(
                child
                for child in path.iterdir()
                if child.suffix in YAML_SUFFIXES and not child.name.startswith(".")
            )
            for file in files:
                _require_utf8_name(file)
            if not files:
                raise ConfigError(
                    [
                        Problem(
                            "directory holds no *.yaml or *.yml file",
                            here,
                            "point crmconf at a configuration file or a directory of them",
                        )
                    ]
                )
            return files
        if not path.exists():
            raise ConfigError([Problem("no such file or directory", here)])
    except OSError as error:
        raise ConfigError([Problem(f"cannot read: {error.strerror}", here)]) from None
    return [path]


def _require_utf8_name(path: FilePath) -> None:
    """Refuse a path whose name is not UTF-8: plans, digests and messages name each file
    in UTF-8 text, which such a name (a Latin-1 'café.yaml', say) cannot be written in."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(path).decode("utf-8", "backslashreplace")
        raise ConfigError(
            [
                Problem(
                    "the file name is not valid UTF-8",
                    Location(shown),
                    "rename it with a UTF-8 name (as `convmv -f latin1 -t utf8` does)",
                )
            ]
        ) from None


OUTSIDE_ROOT_ALLOWED: ContextVar[bool] = ContextVar("outside_root_allowed", default=False)
"""Whether a configuration directory may hold links to files outside it (--allow-outside-root)."""


def confined(files: list[FilePath], root: FilePath) -> list[FilePath]:
    """Refuse files of a configuration directory that resolve outside it (a symlink to
    /etc/…, say): a reviewed directory must not pull in what nobody reviewed."""
    if OUTSIDE_ROOT_ALLOWED.get():
        return files
    inside = FilePath(os.path.realpath(root))
    # realpath, unlike resolve(), does not raise on a link loop; loops, pipes and devices
    # are refused when read, as "not a regular file".
    real = {file: FilePath(os.path.realpath(file)) for file in files}
    problems = [
        Problem(
            f"{file.name} leads outside the configuration directory, to {real[file]}",
            Location(str(file)),
            "copy the file into the directory, or pass --allow-outside-root if you mean it",
        )
        for file in files
        if real[file].is_file() and not real[file].is_relative_to(inside)
    ]
    if problems:
        raise ConfigError(problems)
    return files


def read_bytes(file: FilePath) -> bytes:
    """A configuration file's bytes (up to the size limit and one more, to notice it)."""
    where = Location(str(file))
    try:
        mode = file.stat().st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        if not stat.S_ISREG(mode):
            raise ConfigError(
                [
                    Problem(
                        "not a regular file (a pipe, device or socket?)",
                        where,
                        "configuration files are plain files",
                    )
                ]
            )
        with file.open("rb") as handle:
            # Never read more than the size limit (+1 to notice it): a file may lie about
            # its size or grow while read.
            return handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise ConfigError(
            [
                Problem(
                    f"cannot read the file: {error.strerror}",
                    Location(str(file)),
                    "check that it exists, is a regular file and is readable",
                )
            ]
        ) from None


def is_layout(root: FilePath) -> bool:
    """Whether a directory is split into base/ and envs/NAME/ overlays."""
    return (root / BASE).is_dir()


def overlay_of(path: FilePath) -> tuple[FilePath, str] | None:
    """The layout and environment whose overlay a path is (envs/NAME/, or a file in it)."""
    folder = path.absolute() if path.is_dir() else path.absolute().parent
    if folder.parent.name != ENVIRONMENTS or not is_layout(folder.parent.parent):
        return None
    return folder.parent.parent, folder.name


def refuse_overlay(path: FilePath) -> None:
    """An overlay (envs/NAME/ of a layout, or a file in it) is not a configuration of its
    own: read alone it is either "valid" for the wrong reason or fails on `drop:`."""
    found = overlay_of(path)
    if found is None:
        return
    root, environment = found
    layout = os.path.relpath(root)
    raise ConfigError(
        [
            Problem(
                f"an overlay (environment {environment!r} of {layout}), "
                "not a configuration of its own",
                Location(str(path), 1, 1),
                f"validate the configuration directory ({layout}) instead: "
                f"'crmconf validate {layout}' checks the base with every overlay; "
                f"plan, apply and drift take '{layout} --env {environment}'",
            )
        ]
    )


class OutputError(CrmconfError):
    """An output path crmconf will not write: a device, a pipe, a directory, a broken link."""


def replace_file(path: FilePath, text: str, hint: str = "write to a regular file") -> None:
    """Write a whole file or nothing: a failed write never leaves half a file, nor the
    temporary one beside it.

    Only a regular file (or a new path) is replaced: replacing a device, a pipe or the
    link to one with a regular file would break it (as root, /dev/full). A symlink to a
    regular file stays a symlink; its file is rewritten.
    """
    import tempfile

    path = _regular_destination(path, hint)
    directory = path.parent if str(path.parent) else FilePath(".")
    temporary: FilePath | None = None
    try:
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=directory, prefix=f".{path.name}.", delete=False
        ) as handle:
            temporary = FilePath(handle.name)
            handle.write(text)
        if path.exists():  # a rewritten file keeps its permissions; the temporary one has 0600
            temporary.chmod(stat.S_IMODE(path.stat().st_mode))
        os.replace(temporary, path)
    except OSError as error:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        raise CrmconfError(f"cannot write {path}: {error.strerror}") from None


def _regular_destination(path: FilePath, hint: str) -> FilePath:
    """The regular file (or new path) that writing to path means, else OutputError."""
    try:
        mode = path.stat().st_mode  # follows links: what a link leads to decides
    except FileNotFoundError:
        if path.is_symlink():
            raise OutputError(f"cannot write {path}: it is a link to nothing; {hint}") from None
        return path
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror}") from None
    if stat.S_ISREG(mode):
        return FilePath(os.path.realpath(path))
    what = "a directory" if stat.S_ISDIR(mode) else "not a regular file (a device, pipe or socket)"
    raise OutputError(f"cannot write {path}: it is {what}; {hint}")
