"""`${NAME}` and `${NAME:-default}` in configuration values, substituted after YAML parsing.

Substituting parsed values rather than text keeps quoting meaningful and every
location exact: `"${P}"` stays text, while a plain scalar that is exactly one
variable (`probability: ${P}`) is read again by YAML 1.2's core rules, so P=15
gives the number 15 — as if 15 had been written there. Anything else (text
around a variable, several variables, a quoted or block scalar) is text.
Keys never hold variables; `$${` writes a literal `${`.

Files without `${` are returned untouched, so plain loads cost one substring search.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path as FilePath
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from crmconf.config.files import MAX_FILE_BYTES
from crmconf.config.yaml_source import SourceDocument, exact_float, parse, read_text
from crmconf.errors import ConfigError, Location, Problem
from crmconf.model.kind import Path

VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# `$${` escapes; `${…}` is a reference; a `${` never closed is malformed.
_REFERENCE = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_INNER = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>.*))?", re.DOTALL)
_WHOLE = re.compile(r"\$\{[^}]*\}")
_FLOW_HINT = (
    'YAML reserves { } inside [ ] and { }: quote the variable there ("${NAME}", then it is '
    "text) or write the list or item in block style (- ${NAME}, key: ${NAME})"
)
_SYNTAX_HINT = "write ${NAME} or ${NAME:-default}; write $${ for a literal ${"

_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# YAML 1.2 core schema, for a plain scalar that was one variable.
_NULL = re.compile(r"null|Null|NULL|~|")
_TRUE = re.compile(r"true|True|TRUE")
_FALSE = re.compile(r"false|False|FALSE")
_DECIMAL = re.compile(r"[-+]?[0-9]+")
_OCTAL = re.compile(r"0o[0-7]+")
_HEXADECIMAL = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_INFINITY = re.compile(r"([-+]?)\.(inf|Inf|INF)")
_NAN = re.compile(r"\.nan|\.NaN|\.NAN")


def substitute(source: SourceDocument, text: str, variables: Mapping[str, str]) -> SourceDocument:
    """The document with every `${…}` in its values replaced; `text` is what it was parsed from."""
    if "${" not in text:
        return source
    root = yaml.compose(text, Loader=_Loader)  # parsed before, so it composes again
    if root is None:
        return source
    substitution = _Substitution(source, variables)
    value = substitution.value(root, source.value, ())
    if substitution.problems:
        raise ConfigError(substitution.problems)
    return source.with_value(value, substitution.written)


def references_variables(value: str) -> bool:
    """Whether a written value names a variable (`$${`, an escaped `${`, does not)."""
    return any(match.group(0) != "$${" for match in _REFERENCE.finditer(value))


def with_flow_hint(error: ConfigError, data: bytes) -> ConfigError:
    """A `${…}` inside `[ ]` or `{ }` is a YAML syntax error, not a variable: say so."""
    if b"${" not in data:
        return error
    lines = data.splitlines()
    problems = []
    for problem in error.problems:
        where = problem.location
        if (
            problem.hint is None
            and problem.message.startswith("YAML syntax error")
            and where is not None
            and 0 < where.line <= len(lines)
            and b"${" in lines[where.line - 1]
        ):
            problem = Problem(problem.message, where, _FLOW_HINT)
        problems.append(problem)
    return ConfigError(problems)


def substituted_text(value: str, variables: Mapping[str, str]) -> str:
    """A value's text with its `${NAME}` and `${NAME:-default}` replaced as the loader
    replaces them; a malformed reference, or one to an unset variable, stays as written
    (the loader reports those)."""

    def replace(match: re.Match[str]) -> str:
        reference = match.group(0)
        if reference == "$${":
            return "${"
        inner = _INNER.fullmatch(match.group(1) or "") if reference != "${" else None
        if inner is None or "${" in (inner.group("default") or ""):
            return reference
        given, default = variables.get(inner.group("name")), inner.group("default")
        if default is not None and not given:
            return default
        return reference if given is None else given

    return _REFERENCE.sub(replace, value)


def load_variables(path: FilePath) -> dict[str, str]:
    """A `--vars` file: a YAML mapping of variable names to scalar values, as text."""
    where = Location(str(path))
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise ConfigError(
            [Problem(f"cannot read the variables file: {error.strerror}", where)]
        ) from None
    source = parse(str(path), read_text(str(path), data))
    if source.value is None:
        return {}
    if not isinstance(source.value, dict):
        raise ConfigError(
            [
                Problem(
                    "a variables file is a mapping of names to values",
                    source.location(()),
                    "write one 'NAME: value' per line",
                )
            ]
        )
    problems: list[Problem] = []
    found: dict[str, str] = {}
    for name, value in source.value.items():
        if not VARIABLE_NAME.fullmatch(name):
            problems.append(
                Problem(
                    f"{name!r} is not a variable name",
                    source.key_location((name,)),
                    "use letters, digits and '_', not starting with a digit",
                )
            )
        elif isinstance(value, bool):
            found[name] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            found[name] = str(value)
        else:
            what = "empty (null)" if value is None else "not a single value"
            problems.append(
                Problem(
                    f"variable {name} is {what}",
                    source.location((name,)),
                    "give text, a number or true/false; '' for empty text",
                )
            )
    if problems:
        raise ConfigError(problems)
    return found


class _Substitution:
    """Walks the node graph beside the built values: nodes tell how each scalar was written."""

    def __init__(self, source: SourceDocument, variables: Mapping[str, str]) -> None:
        self.source = source
        self.variables = variables
        self.written: dict[Path, str] = {}
        """How each value that became a non-text value was written."""
        self.problems: list[Problem] = []

    def value(self, node: Node, value: Any, path: Path) -> Any:
        if isinstance(node, MappingNode):
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = key_node.value
                if "${" in key:
                    self.problems.append(
                        Problem(
                            f"variables are substituted in values only, not in the key {key!r}",
                            self.source.key_location((*path, key)),
                            "write the key out",
                        )
                    )
                result[key] = self.value(value_node, value[key], (*path, key))
            return result
        if isinstance(node, SequenceNode):
            return [
                self.value(item_node, item, (*path, index))
                for index, (item_node, item) in enumerate(zip(node.value, value, strict=True))
            ]
        if not isinstance(value, str) or "${" not in value:
            return value
        replaced = self._replaced(value, path)
        assert isinstance(node, ScalarNode)
        if node.style or not _WHOLE.fullmatch(value):
            return replaced  # quoted, block or mixed with text: text
        typed = self._core_value(replaced, path)
        if not isinstance(typed, str):
            self.written[path] = value  # so a "quote it" hint shows what was written
        return typed

    def _replaced(self, value: str, path: Path) -> str:
        def replace(match: re.Match[str]) -> str:
            reference = match.group(0)
            if reference == "$${":
                return "${"
            inner = _INNER.fullmatch(match.group(1) or "") if reference != "${" else None
            if inner is None or "${" in (inner.group("default") or ""):
                shown = reference if reference != "${" else value[match.start() :]
                self.problems.append(
                    Problem(
                        f"malformed variable reference {shown!r}",
                        self.source.location(path),
                        _SYNTAX_HINT,
                    )
                )
                return reference
            name, default = inner.group("name"), inner.group("default")
            given = self.variables.get(name)
            if default is not None and not given:  # as in sh: unset or empty
                return default
            if given is None:
                self.problems.append(
                    Problem(
                        f"variable {name} is not set",
                        self.source.location(path),
                        f"set {name} in the environment or the --vars file, "
                        f"or give a default: ${{{name}:-value}}",
                    )
                )
                return reference
            return given

        return _REFERENCE.sub(replace, value)

    def _core_value(self, text: str, path: Path) -> Any:
        """What YAML 1.2's core schema reads a plain scalar as."""
        if _NULL.fullmatch(text):
            return None
        if _TRUE.fullmatch(text):
            return True
        if _FALSE.fullmatch(text):
            return False
        try:
            if _DECIMAL.fullmatch(text):
                return int(text)
            if _OCTAL.fullmatch(text):
                return int(text[2:], 8)
            if _HEXADECIMAL.fullmatch(text):
                return int(text[2:], 16)
        except ValueError:  # thousands of digits
            self.problems.append(
                Problem(
                    f"the number {text[:12]}… is too long to read ({len(text):,} characters)",
                    self.source.location(path),
                    "give the variable a number of sensible size",
                )
            )
            return text
        if _FLOAT.fullmatch(text):
            return exact_float(text, float(text))
        infinity = _INFINITY.fullmatch(text)
        if infinity:
            return -math.inf if infinity.group(1) == "-" else math.inf
        if _NAN.fullmatch(text):
            return math.nan
        return text
