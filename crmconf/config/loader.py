"""Load a configuration file or directory into a validated `Configuration`.

Every problem found is reported at once, each with file:line:col, so a user fixes
a file in one round rather than one error per run.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path as FilePath
from typing import Any

from pydantic import BaseModel, ValidationError

from crmconf.config.document import FORMAT_VERSION, document_model
from crmconf.config.files import (
    configuration_files,
    confined,
    read_bytes,
    refuse_overlay,
)
from crmconf.config.firm_rules import RuleSet, rule_set
from crmconf.config.messages import explained, model_in
from crmconf.config.rules import check_configuration
from crmconf.config.variables import substitute, with_flow_hint
from crmconf.config.yaml_source import SourceDocument, parse, read_text
from crmconf.errors import ConfigError, Location, Problem
from crmconf.kinds import ALL_KINDS
from crmconf.model.configuration import Configuration, Limits, Source
from crmconf.model.kind import Kind, Path, Record, section_value

# The document model's validator is built here, once, as a pydantic model's is when its
# class is defined: whatever imports the loader validates configurations, and commands
# that do not (--version, --help, a remembered validate verdict) never import it.
document_model().model_rebuild()


_SHORT_FORM_SECTIONS = frozenset(
    kind.section for kind in ALL_KINDS if kind.item_model is not None and kind.item_model.SHORT_FORM
)
"""Sections whose entries may be bare names."""
_BARE_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
"""A value written as one variable and nothing else."""


@dataclass(frozen=True)
class _Section:
    kind: Kind
    records: tuple[Record, ...]
    location: Location
    removed: bool = False
    """Whether this is the kind's list under `removed:`."""


def load_files(
    root: FilePath, variables: Mapping[str, str], source: Source | None = None
) -> Configuration:
    """Load, validate and merge a configuration file, or a directory of them (no layout)."""
    refuse_overlay(root)
    files = configuration_files(root)
    if root.is_dir():
        confined(files, root)
    # Each file is parsed just before it is validated, and let go of right after: the
    # plain values of one file at a time, not of the whole directory, are held.
    digest, contents = _read_all(files)
    parsed = (_parsed(file, data, variables) for file, data in contents)
    return replace(build_configuration(parsed, files, digest), source=source)


def read_sources(
    files: Iterable[FilePath], variables: Mapping[str, str]
) -> tuple[str, list[SourceDocument | ConfigError]]:
    """The digest of the files, and each parsed with its variables substituted (or its error)."""
    digest, contents = _read_all(files)
    return digest, [_parsed(file, data, variables) for file, data in contents]


def _read_all(files: Iterable[FilePath]) -> tuple[str, list[tuple[FilePath, bytes]]]:
    """The digest of the files and their bytes."""
    digest = hashlib.sha256()
    contents = []
    for file in files:
        data = read_bytes(file)
        digest.update(str(file.name).encode() + b"\0" + data + b"\0")
        contents.append((file, data))
    return digest.hexdigest(), contents


def _parsed(
    file: FilePath, data: bytes, variables: Mapping[str, str]
) -> SourceDocument | ConfigError:
    """One file parsed with its variables substituted, or what is wrong with it."""
    try:
        text = read_text(str(file), data)
        return substitute(parse(str(file), text), text, variables)
    except ConfigError as error:
        return with_flow_hint(error, data)


def build_configuration(
    sources: Iterable[SourceDocument | ConfigError], files: Iterable[FilePath], digest: str
) -> Configuration:
    """Validate parsed files and merge them into one configuration, reporting every problem."""
    sections: list[_Section] = []
    problems: list[Problem] = []
    safety: list[tuple[BaseModel, Location]] = []
    prune: list[tuple[dict[str, bool], Location]] = []
    rules = RuleSet()
    for source in sources:
        if isinstance(source, ConfigError):
            problems.extend(source.problems)
            continue
        try:
            document = _validate(source)
            sections.extend(_sections(source, document))
            if getattr(document, "prune", None) is not None:
                prune.append((document.prune, source.location(("prune",))))  # type: ignore[attr-defined]
            if getattr(document, "safety", None) is not None:
                safety.append((document.safety, source.location(("safety",))))  # type: ignore[attr-defined]
            rules += rule_set(getattr(document, "rules", None), source, ("rules",))
        except ConfigError as error:
            problems.extend(error.problems)
    if problems:
        raise ConfigError(problems)
    limits = _limits(safety)
    merged = _merge([section for section in sections if not section.removed])
    removals = _merge([section for section in sections if section.removed])
    warnings = check_configuration(merged, removals, rules)
    return Configuration(
        merged,
        removals,
        tuple(str(file) for file in files),
        digest,
        tuple(warnings),
        limits,
        _prune(prune),
        rules=tuple(located.rule.id for located in rules.rules),
    )


def validate_file(file: str, text: str) -> BaseModel:
    """One file's document on its own: its YAML read strictly and checked against the model.

    Rules across items and files (duplicates, references, `removed:`) need the whole
    configuration: `load` checks those.
    """
    return _validate(parse(file, text))


def _prune(written: list[tuple[dict[str, bool], Location]]) -> dict[str, bool]:
    merged: dict[str, bool] = {}
    seen: dict[str, Location] = {}
    problems = []
    for value, location in written:
        for name, flag in value.items():
            if name in seen:
                problems.append(
                    Problem(f"prune.{name} is set in two files; also at {seen[name]}", location)
                )
            seen[name], merged[name] = location, flag
    if problems:
        raise ConfigError(problems)
    return merged


def _limits(written: list[tuple[BaseModel, Location]]) -> Limits:
    if len(written) > 1:
        raise ConfigError(
            [
                Problem(
                    f"safety is written in two files; also at {written[0][1]}",
                    written[1][1],
                    "state the limits in one place",
                )
            ]
        )
    if not written:
        return Limits()
    given = written[0][0].model_dump(exclude_none=True)
    return replace(Limits(), **given)


def _sections(source: SourceDocument, document: BaseModel) -> list[_Section]:
    found: list[_Section] = []
    for kind in ALL_KINDS:
        present, value = section_value(document, kind)
        if not present:
            continue
        prefix: Path = kind.section

        def locate(path: Path, prefix: Path = prefix) -> Location:
            return source.location((*prefix, *path))

        records = tuple(record for record, _path in kind.flatten(value, locate))
        found.append(_Section(kind, records, source.location(prefix)))
    removed = getattr(document, "removed", None)
    if removed is None:
        return found
    for kind in ALL_KINDS:
        present, value = section_value(removed, kind) if not kind.is_switch else (False, None)
        if not present or value is None:
            continue
        prefix = ("removed", *kind.section)
        records = tuple(
            _located(kind.removal_record(entry), source.location((*prefix, index)))
            for index, entry in enumerate(value)
        )
        found.append(_Section(kind, records, source.location(prefix), removed=True))
    return found


def _located(record: Record, location: Location) -> Record:
    return replace(record, location=location)


def _validate(source: SourceDocument) -> BaseModel:
    if source.value is None:
        raise ConfigError(
            [
                Problem(
                    "the file is empty",
                    Location(source.file, 1, 1),
                    f"a configuration starts with 'crmconf: {FORMAT_VERSION}'",
                )
            ]
        )
    if not isinstance(source.value, dict):
        raise ConfigError(
            [
                Problem(
                    "a configuration is a mapping of sections",
                    source.location(()),
                    f"start the file with 'crmconf: {FORMAT_VERSION}' and sections such as "
                    "'industries:'",
                )
            ]
        )
    model = document_model()
    try:
        return model.model_validate(source.value)
    except ValidationError as error:
        details = error.errors(include_url=False)
        # `[Bygg, IT: telekom]`: YAML reads `IT: telekom` as a key and its value; say so
        # once, rather than "unknown key 'IT'" and "required key 'name' is missing".
        colons = {tuple(d["loc"][:-1]) for d in details if _colon_name(source, d["loc"][:-1])}
        problems = [
            _problem(source, model, detail)
            for detail in details
            if not (detail["type"] == "missing" and tuple(detail["loc"][:-1]) in colons)
        ]
        raise ConfigError(problems) from None


def _colon_name(source: SourceDocument, path: Path) -> str | None:
    """The name meant, where a list entry is a one-key mapping such as `IT: telekom` (a
    name holding ': ' written unquoted); None otherwise."""
    if not path or not isinstance(path[-1], int) or path[:-1] not in _SHORT_FORM_SECTIONS:
        return None
    value: Any = source.value
    for part in path:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return None
    if not (isinstance(value, dict) and len(value) == 1):
        return None
    ((key, inner),) = value.items()
    if key in ("name", "title") or isinstance(inner, dict | list):
        return None
    written = source.written.get((*path, key), inner)
    return f"{key}: {written}"


def _problem(source: SourceDocument, model: type[BaseModel], detail: Any) -> Problem:
    path: Path = tuple(detail["loc"])
    where = source.location(path)
    dotted = _dotted(path)
    kind = detail["type"]
    given = detail.get("input")
    meant = _colon_name(source, path[:-1]) if kind in ("extra_forbidden", "missing") else None
    if meant is not None:
        return Problem(
            f"{_dotted(path[:-1])}: YAML reads {meant!r} as a key and its value, not as a name",
            source.key_location(path) if kind == "extra_forbidden" else where,
            f'quote names containing ": ": "{meant}"',
        )
    if kind == "extra_forbidden":
        key = str(path[-1])
        allowed = _allowed_keys(model, path[:-1])
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"allowed keys: {', '.join(allowed)}"
        return Problem(
            f"unknown key {key!r} in {_dotted(path[:-1]) or 'the file'}",
            source.key_location(path),
            hint,
        )
    if kind == "missing":
        if path == ("crmconf",):
            return Problem(
                "missing the format version",
                where,
                f"add 'crmconf: {FORMAT_VERSION}' at the top of the file",
            )
        return Problem(f"{dotted}: required key {path[-1]!r} is missing", where)
    if path == ("crmconf",):
        return Problem(
            f"unsupported format version {given!r}",
            where,
            f"this crmconf reads format version {FORMAT_VERSION}: "
            f"write 'crmconf: {FORMAT_VERSION}'",
        )
    if kind in ("tuple_type", "list_type") and given is None:
        return Problem(
            f"{dotted}: a section cannot be empty (null)",
            where,
            "write [] for none, or remove the section to leave it unmanaged",
        )
    if kind in ("string_type", "model_type") and not isinstance(given, str | dict | list):
        text = source.written.get(path, str(given))
        variable = _BARE_VARIABLE.fullmatch(text)
        if given is None and variable:  # quoting "${EXTRA}" would hide the empty variable
            name = variable.group(1)
            return Problem(
                f"{dotted}: variable {name} is set but empty (or null), so this value is null",
                where,
                f"give {name} a value, or a default: ${{{name}:-value}} (a default is used "
                f"when {name} is empty too)",
            )
        return Problem(
            f"{dotted}: expected a name (text), but YAML read {text!r} as {_yaml_type(given)}",
            where,
            f'quote it so YAML reads it as text: "{text}"',
        )
    explanation = explained(detail, model, source.written.get(path))
    if explanation is not None:
        return Problem(f"{dotted}: {explanation[0]}", where, explanation[1])
    return Problem(f"{dotted}: {detail['msg']}", where)


def _yaml_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if value is None:
        return "null"
    return type(value).__name__


def _dotted(path: Iterable[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _allowed_keys(model: type[BaseModel], path: Path) -> list[str]:
    """The keys a mapping at path may hold, read off the document model."""
    current: Any = model
    for part in path:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        current = model_in(current.model_fields[part].annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _merge(sections: list[_Section]) -> dict[str, tuple[Record, ...]]:
    """Merge sections from several files; a kind's items may be spread, not repeated."""
    merged: dict[str, list[Record]] = {}
    first: dict[str, _Section] = {}
    problems: list[Problem] = []
    for section in sections:
        name = section.kind.name
        if name in first and (section.kind.ordered or section.kind.is_switch):
            problems.append(
                Problem(
                    f"{name} is written in two files; also at {first[name].location}",
                    section.location,
                    "write it in one file: its order or value must be stated in one place",
                )
            )
            continue
        first.setdefault(name, section)
        merged.setdefault(name, []).extend(section.records)
    if problems:
        raise ConfigError(problems)
    return {name: tuple(records) for name, records in merged.items()}
