"""YAML text → plain values, with the file:line:col of every value.

PyYAML composes the node graph (with libyaml's C parser where installed); this
module then builds plain values itself so that it can refuse what PyYAML's safe
loader lets through silently: duplicate keys, tags outside YAML's core set, alias
expansion bombs, and plain scalars that YAML 1.1 (PyYAML) and YAML 1.2 (editors,
check-jsonschema) read differently — `No`, `on`, `017`, `0o17`, `1_000`, dates.

A valid file is built in one pass (`_FastBuilder`) that records where its items and
sections stand; anything unusual, and any message that needs a finer location, goes
through the full builder (`_Builder`), which stays the reference for both.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from crmconf.config.files import MAX_FILE_BYTES
from crmconf.errors import ConfigError, Location, Problem
from crmconf.model.kind import Path
from crmconf.model.names import InexactNumber

MAX_DEPTH = 200
"""Deepest nesting read; a group tree 90 levels deep still fits."""

MAX_ALIAS_EXPANSION = 100_000
"""Values that aliases may add on top of the written ones, so `*anchor` stays a convenience."""

_SafeLoader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[misc]
    """PyYAML's safe loader, with its tag resolution done in fewer steps.

    libyaml's composer calls back into Python to resolve the tag of every node; PyYAML's
    resolver then also keeps a stack of path resolvers, which the safe loader has none
    of. This one looks up the same implicit resolvers (same regular expressions, same
    order) and skips the empty path bookkeeping: same tags, a third of the calls.
    """

    _IMPLICIT: ClassVar[dict[str, tuple[tuple[str, re.Pattern[str]], ...]]] = {
        first: tuple(resolvers + _SafeLoader.yaml_implicit_resolvers.get(None, []))
        for first, resolvers in _SafeLoader.yaml_implicit_resolvers.items()
        if first is not None
    }
    _WILDCARD: ClassVar[tuple[tuple[str, re.Pattern[str]], ...]] = tuple(
        _SafeLoader.yaml_implicit_resolvers.get(None, [])
    )
    assert not _SafeLoader.yaml_path_resolvers, "path resolvers would need the full resolver"

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None

    def resolve(self, kind: type[Node], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            if implicit[0]:
                for tag, regexp in self._IMPLICIT.get(value[:1], self._WILDCARD):
                    if regexp.match(value):
                        return tag
            return _STR
        return _SEQ if kind is SequenceNode else _MAP


_TAG = "tag:yaml.org,2002:"
_STR, _MAP, _SEQ = f"{_TAG}str", f"{_TAG}map", f"{_TAG}seq"
_SCALAR_TAGS = {f"{_TAG}{name}" for name in ("str", "int", "float", "bool", "null", "timestamp")}

# YAML 1.2 core schema (what editors and check-jsonschema use) — to spot disagreements.
_YAML12 = (
    ("null", re.compile(r"null|Null|NULL|~|")),
    ("bool", re.compile(r"true|True|TRUE|false|False|FALSE")),
    ("int", re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")),
    (
        "float",
        re.compile(
            r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.nan|\.NaN|\.NAN"
        ),
    ),
)
_OCTAL_11 = re.compile(r"[-+]?0[0-9]+")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_FOLDED = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]")


def _yaml12_type(text: str) -> str:
    for name, pattern in _YAML12:
        if pattern.fullmatch(text):
            return name
    return "str"


_Details = tuple[dict[Path, Location], dict[Path, Location], dict[Path, str]]
"""Where each value stands, where each key stands, how each non-text scalar was written."""


class SourceDocument:
    """One configuration file read into plain values, and where each of them is written.

    A file read on the fast path knows where its mappings and list entries stand,
    which is all a valid file needs (where each item is). Where every other value and
    key stands, and how non-text scalars were written, is needed only for messages
    about problems: it is worked out from the text on first use, by the full builder.
    """

    __slots__ = ("_details", "_places", "_text", "_written", "file", "value")

    def __init__(
        self,
        file: str,
        value: Any,
        locations: dict[Path, Location],
        key_locations: dict[Path, Location] | None = None,
        written: dict[Path, str] | None = None,
        *,
        text: str | None = None,
    ) -> None:
        self.file = file
        self.value = value
        self._places = locations
        """Exact for every path it holds; complete unless `_text` is kept."""
        self._text = text
        self._details: _Details | None = None
        if text is None:
            self._details = (locations, key_locations or {}, written or {})
        self._written: dict[Path, str] = {}

    @property
    def locations(self) -> dict[Path, Location]:
        """Where every value written stands."""
        return self._complete()[0]

    @property
    def key_locations(self) -> dict[Path, Location]:
        """Where the key of each mapping entry stands (for "unknown key" errors)."""
        return self._complete()[1]

    @property
    def written(self) -> dict[Path, str]:
        """The text of each value YAML read as something other than text (for quoting hints)."""
        written = self._complete()[2]
        return {**written, **self._written} if self._written else written

    def with_value(self, value: Any, written: dict[Path, str]) -> SourceDocument:
        """The same file with its values replaced (variables substituted) at the same places;
        `written` adds how some of the new values were written."""
        copy = SourceDocument(self.file, value, self._places)
        copy._text, copy._details = self._text, self._details
        copy._written = {**self._written, **written}
        return copy

    def key_location(self, path: Path) -> Location:
        """Where the key leading to path stands, else where its value does."""
        return self.key_locations.get(path) or self.location(path)

    def location(self, path: Path) -> Location:
        """Where the value at path (or its nearest written ancestor) stands."""
        found = self._places.get(path)
        if found is not None:
            return found
        locations = self.locations
        for end in range(len(path), -1, -1):
            found = locations.get(path[:end])
            if found is not None:
                return found
        return Location(self.file, 1, 1)

    def _complete(self) -> _Details:
        if self._details is None:
            assert self._text is not None
            root = _compose(self.file, self._text)
            assert root is not None  # it was read into values before
            # Only alias-free files take the fast path that leaves this for later.
            full = _full_build(self.file, self._text, root, aliases=False)
            self._details = (full._places, full.key_locations, full.written)
            self._text = None  # read once is enough
        return self._details


def _location(file: str, node: Node) -> Location:
    mark = node.start_mark
    return Location(file, mark.line + 1, mark.column + 1)


def _mark_location(file: str, mark: Any) -> Location:
    if mark is None:
        return Location(file, 1, 1)
    return Location(file, mark.line + 1, mark.column + 1)


def read_text(file: str, data: bytes) -> str:
    """Decode a configuration file: UTF-8, a byte-order mark allowed."""
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(
            [
                Problem(
                    f"file is {len(data):,} bytes; crmconf reads files up to "
                    f"{MAX_FILE_BYTES:,} bytes",
                    Location(file),
                    "split the configuration into several files in one directory",
                )
            ]
        )
    body = data.removeprefix(b"\xef\xbb\xbf")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        # Locate by characters, as editors do: decode what came before the bad byte.
        before = body[: error.start].decode("utf-8")
        raise ConfigError(
            [
                Problem(
                    f"invalid UTF-8 byte 0x{body[error.start]:02x}",
                    _offset_location(file, before, len(before)),
                    "save the file as UTF-8",
                )
            ]
        ) from None


def parse(file: str, text: str) -> SourceDocument:
    """Parse one YAML document into plain values with locations."""
    root = _compose(file, text)
    if root is None:
        return SourceDocument(file, None, {})
    # An alias needs an anchor: without '&' in the text, none can be there.
    aliases = "&" in text and _has_aliases(root)
    if not aliases:
        try:
            value, places = _FastBuilder(file).build(root)
        except _Unusual:
            pass  # the full builder reports it (or handles it), with every location
        else:
            return SourceDocument(file, value, places, text=text)
    return _full_build(file, text, root, aliases)


def _compose(file: str, text: str) -> Node | None:
    """The node graph of the file's one document (None if it holds none)."""
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        message = error.problem or error.context or "invalid YAML"
        if "\t" in text and "cannot start any token" in message:
            hint = "indent with spaces; YAML does not allow tabs for indentation"
        elif error.context == "while scanning a simple key" and error.context_mark is not None:
            # A stray line (`Handel` under a list, unindented): the scanner notices only
            # where the text ends, often past the last line; the stray line is the place.
            mark = error.context_mark
            stray = (
                text.splitlines()[mark.line].strip() if mark.line < len(text.splitlines()) else ""
            )
            message = f"{stray!r} is neither 'key: value' nor a list item"
            hint = (
                "indent it like the entries it belongs to (a list item: "
                f"'- {stray}'), or write it as 'key: value'"
            )
        else:
            hint = None
        raise ConfigError(
            [Problem(f"YAML syntax error: {message}", _mark_location(file, mark), hint)]
        ) from None
    except yaml.reader.ReaderError as error:
        raise ConfigError(
            [
                Problem(
                    f"character {_character(error.character)} is not allowed in YAML",
                    _offset_location(file, text, error.position),
                    "remove control characters such as NUL from the file",
                )
            ]
        ) from None
    except yaml.YAMLError as error:
        raise ConfigError([Problem(f"YAML error: {error}", Location(file, 1, 1))]) from None
    except RecursionError:  # PyYAML's pure-Python composer, where libyaml is missing
        raise ConfigError(
            [
                Problem(
                    "nesting too deep to read",
                    Location(file, 1, 1),
                    "flatten the structure; no crmconf setting nests this deep",
                )
            ]
        ) from None
    if len(nodes) > 1:
        raise ConfigError(
            [
                Problem(
                    "a configuration file holds one YAML document; found a second one",
                    _location(file, nodes[1]),
                    "remove the '---' separator or move the document to its own file",
                )
            ]
        )
    return nodes[0] if nodes else None


def _full_build(file: str, text: str, root: Node, aliases: bool) -> SourceDocument:
    """Every value with where it stands, every problem of the file reported; `aliases`:
    whether the graph holds any (`_has_aliases`)."""
    if aliases:
        # Rare, so only then: compose again in Python, keeping where each alias stands.
        try:
            root = yaml.compose(text, Loader=_AliasTrackingLoader) or root
        except RecursionError:
            raise ConfigError(
                [Problem("aliases nested too deep to read", Location(file, 1, 1))]
            ) from None
    return _Builder(file).build(root, aliases)


class _AliasNode(Node):
    """An alias (`*name`) where it is written, standing for the anchored node."""

    def __init__(self, target: Node, start_mark: Any) -> None:
        super().__init__(target.tag, target.value, start_mark, start_mark)
        self.target = target


class _AliasTrackingLoader(yaml.SafeLoader):
    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            target = super().compose_node(parent, index)
            assert target is not None  # an alias always names a composed node
            return _AliasNode(target, mark)
        return super().compose_node(parent, index)


def _has_aliases(root: Node) -> bool:
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            return True
        seen.add(id(node))
        stack.extend(_children(node))
    return False


def _character(character: int | str) -> str:
    code = character if isinstance(character, int) else ord(character)
    return f"U+{code:04X}"


def _offset_location(file: str, text: str, position: int) -> Location:
    """Line and column of a character offset; YAML breaks lines at LF, CR LF and CR."""
    lines = _LINE_BREAK.split(text[:position])
    return Location(file, len(lines), len(lines[-1]) + 1)


class _Builder:
    """Builds plain values from a composed node graph, collecting every problem."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.locations: dict[Path, Location] = {}
        self.key_locations: dict[Path, Location] = {}
        self.written: dict[Path, str] = {}
        self.problems: list[Problem] = []
        self.constructor = SafeConstructor()

    def build(self, root: Node, aliases: bool) -> SourceDocument:
        if aliases:  # without them the graph expands to exactly what is written
            self._check_expansion(root)
        value = self._value(root, ())
        if self.problems:
            raise ConfigError(self.problems)
        return SourceDocument(self.file, value, self.locations, self.key_locations, self.written)

    def _check_expansion(self, root: Node) -> None:
        sizes: dict[int, int] = {}
        try:
            expanded = _expanded_size(root, sizes)
        except _RecursiveAlias as recursive:
            raise ConfigError(
                [
                    Problem(
                        "an alias refers to the node that contains it (a loop)",
                        _location(self.file, recursive.node),
                        "an anchored value cannot include itself",
                    )
                ]
            ) from None
        if expanded - len(sizes) > MAX_ALIAS_EXPANSION:
            raise ConfigError(
                [
                    Problem(
                        f"aliases expand this document to {expanded:,} values; crmconf allows "
                        f"{MAX_ALIAS_EXPANSION:,} more than are written",
                        _location(self.file, root),
                        "write the values out instead of nesting aliases (*name)",
                    )
                ]
            )

    def _value(self, node: Node, path: Path) -> Any:
        self.locations[path] = _location(self.file, node)
        while isinstance(node, _AliasNode):
            node = node.target
        if len(path) > MAX_DEPTH:
            self.problems.append(
                Problem(
                    f"nesting deeper than {MAX_DEPTH} levels",
                    self.locations[path],
                    "flatten the structure; no crmconf setting nests this deep",
                )
            )
            return None
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            if node.tag != f"{_TAG}seq":
                self._bad_tag(node)
            return [self._value(item, (*path, index)) for index, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        value = self._scalar(node)
        if not isinstance(value, str):
            self.written[path] = node.value
        elif path and (isinstance(path[-1], int) or path[-1] in _NAME_KEYS):
            self._check_one_line(node)
        return value

    def _check_one_line(self, node: ScalarNode) -> None:
        """A name written plain over several lines is a mistake, almost always: YAML joins
        `- Turism` and a ` - Handel` indented one space too far into "Turism - Handel"."""
        lines = node.end_mark.line - node.start_mark.line + 1
        if node.style or lines == 1:
            return
        self.problems.append(
            Problem(
                f"the name {node.value!r} is written over {lines} lines without quotes, "
                "which YAML joins into one",
                _location(self.file, node),
                "a line indented further than the entry above continues it: indent a list "
                "item (- …) like the others; a long name belongs on one line, or in quotes",
            )
        )

    def _mapping(self, node: MappingNode, path: Path) -> dict[str, Any]:
        if node.tag != f"{_TAG}map":
            self._bad_tag(node)
        result: dict[str, Any] = {}
        first_seen: dict[str, Location] = {}
        for key_node, value_node in node.value:
            where = _location(self.file, key_node)
            while isinstance(key_node, _AliasNode):
                key_node = key_node.target
            if key_node.tag == f"{_TAG}merge":
                self.problems.append(
                    Problem(
                        "merge keys ('<<') are not supported",
                        where,
                        "write the keys out; every item must say what it sets",
                    )
                )
                continue
            key = self._scalar(key_node) if isinstance(key_node, ScalarNode) else None
            if not isinstance(key, str):
                text = key_node.value if isinstance(key_node, ScalarNode) else "…"
                self.problems.append(
                    Problem(
                        f"key {text!r} is not text",
                        where,
                        f'quote the key: "{text}"' if isinstance(text, str) else None,
                    )
                )
                continue
            if key in first_seen:
                self.problems.append(
                    Problem(
                        f"duplicate key {key!r}; first defined at line {first_seen[key].line}",
                        where,
                        "remove one of them: YAML keeps only one value per key",
                    )
                )
                continue
            first_seen[key] = where
            self.key_locations[(*path, key)] = where
            result[key] = self._value(value_node, (*path, key))
        return result

    def _scalar(self, node: ScalarNode) -> Any:
        if node.tag not in _SCALAR_TAGS:
            self._bad_tag(node)
            return node.value
        if not node.style:  # plain (unquoted); libyaml reports '' and PyYAML None
            surprise = _yaml_version_surprise(node)
            if surprise:
                self.problems.append(Problem(surprise, _location(self.file, node), _quote(node)))
                return node.value
        if node.tag == f"{_TAG}timestamp":
            return node.value
        try:
            value = self.constructor.construct_object(node, deep=True)
        except ValueError:  # e.g. an integer of thousands of digits
            self.problems.append(
                Problem(
                    f"the number {node.value[:12]}… is too long to read "
                    f"({len(node.value):,} characters)",
                    _location(self.file, node),
                    "write a number of sensible size",
                )
            )
            return node.value
        return exact_float(node.value, value) if type(value) is float else value

    def _bad_tag(self, node: Node) -> None:
        self.problems.append(
            Problem(
                f"tag {node.tag!r} is not allowed",
                _location(self.file, node),
                "crmconf reads plain YAML only: remove the '!' tag",
            )
        )


class _Unusual(Exception):
    """The fast path met what only the full builder handles: a problem, a tag, an alias."""


_NAME_KEYS = frozenset(("name", "title"))
"""Keys whose value is an item's name (a list entry of text is one too)."""
_PLAIN_TYPES = {f"{_TAG}{name}" for name in ("int", "float", "bool", "null")}
_MAY_NOT_BE_TEXT = frozenset("0123456789+-.~nNtTfF")
"""First characters of the plain scalars YAML 1.2 may read as something other than text."""
_MAY_BE_NUMBER = frozenset("0123456789+-.")
_YAML12_WORDS = frozenset(
    ("null", "Null", "NULL", "~", "true", "True", "TRUE", "false", "False", "FALSE")
)
"""The plain scalars not starting like a number that YAML 1.2 reads as null or a boolean."""


def _may_not_be_text(plain: str) -> bool:
    """Whether YAML 1.2 reads this plain scalar as something other than text (an empty
    one is null), in as few steps as the common case allows."""
    if not plain:
        return True
    first = plain[0]
    if first not in _MAY_NOT_BE_TEXT:
        return False
    if first in _MAY_BE_NUMBER:
        return _yaml12_type(plain) != "str"
    return plain in _YAML12_WORDS


class _FastBuilder:
    """Builds plain values from a valid, alias-free node graph in one pass.

    It records where each mapping, list entry and section-level value stands (the
    places a valid file's items, sections and switches are looked up by), and nothing
    for the fields of items. Anything the full
    `_Builder` would report or treat specially (duplicate or non-text keys, tags,
    YAML 1.1/1.2 disagreements, too deep nesting) raises `_Unusual`, and the full
    builder runs instead: same values, same problems, same locations.
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self.places: dict[Path, Location] = {}
        self.constructor = SafeConstructor()

    def build(self, root: Node) -> tuple[Any, dict[Path, Location]]:
        mark = root.start_mark
        self.places[()] = Location(self.file, mark.line + 1, mark.column + 1)
        return self._value(root, (), 0), self.places

    def _value(self, node: Node, path: Path, depth: int) -> Any:
        kind = type(node)
        if kind is ScalarNode:
            return self._scalar(node)  # type: ignore[arg-type]
        if depth >= MAX_DEPTH:
            raise _Unusual
        file, places, value = self.file, self.places, self._value
        if kind is MappingNode:
            if node.tag != _MAP:
                raise _Unusual
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if type(key_node) is not ScalarNode or key_node.tag != _STR:
                    raise _Unusual
                key = key_node.value
                if key in result or (not key_node.style and _may_not_be_text(key)):
                    raise _Unusual
                if type(value_node) is ScalarNode and depth > 1:
                    result[key] = self._scalar(value_node)  # an item's field
                else:
                    inner = (*path, key)
                    mark = value_node.start_mark
                    places[inner] = Location(file, mark.line + 1, mark.column + 1)
                    result[key] = value(value_node, inner, depth + 1)
            return result
        if kind is SequenceNode:
            if node.tag != _SEQ:
                raise _Unusual
            items = []
            for index, item in enumerate(node.value):
                inner = (*path, index)
                mark = item.start_mark
                places[inner] = Location(file, mark.line + 1, mark.column + 1)
                items.append(value(item, inner, depth + 1))
            return items
        raise _Unusual

    def _scalar(self, node: ScalarNode) -> Any:
        tag, text = node.tag, node.value
        if tag == _STR:
            if node.style:
                return text
            # Written plain over several lines: the full builder knows whether that is a name.
            if node.end_mark.line == node.start_mark.line and not _may_not_be_text(text):
                return text
            raise _Unusual
        if tag not in _PLAIN_TYPES or node.style or _yaml_version_surprise(node):
            raise _Unusual
        try:
            value = self.constructor.construct_object(node, deep=True)
        except ValueError:
            raise _Unusual from None
        return exact_float(text, value) if type(value) is float else value


def exact_float(text: str, value: float) -> float:
    """The float a number written as text reads as; an InexactNumber where it is whole but
    the digits written are not (`100.0000000000000001`), so it is not taken for a whole one."""
    if not value.is_integer():
        return value
    try:
        written = Decimal(text.replace("_", ""))
    except InvalidOperation:  # YAML 1.1's sexagesimal 1:30.0, say; refused as a surprise
        return value
    return value if written == value else InexactNumber(value)


def _quote(node: ScalarNode) -> str:
    return f'quote it if you mean the text: "{node.value}"'


def _yaml_version_surprise(node: ScalarNode) -> str | None:
    """Why a plain scalar means different things to YAML 1.1 and YAML 1.2 readers."""
    resolved = node.tag.removeprefix(_TAG)
    text = node.value
    modern = _yaml12_type(text)
    if resolved == "timestamp":
        return f"{text!r} is read as a date by YAML 1.1 and as text by YAML 1.2"
    if resolved == "int" and _OCTAL_11.fullmatch(text):
        return (
            f"{text!r} is the octal number {int(text, 8)} in YAML 1.1 but {int(text)} in YAML 1.2"
        )
    if resolved != modern:
        return (
            f"{text!r} is read as {_described(resolved)} by YAML 1.1 "
            f"but as {_described(modern)} by YAML 1.2"
        )
    return None


def _described(type_name: str) -> str:
    return {"str": "text", "bool": "a boolean", "null": "empty (null)"}.get(
        type_name, f"a number ({type_name})"
    )


def _children(node: Node) -> list[Node]:
    if isinstance(node, _AliasNode):
        return [node.target]
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def _expanded_size(root: Node, sizes: dict[int, int]) -> int:
    """How many values the graph expands to, aliases followed, in time linear in its nodes."""
    stack: list[tuple[Node, bool]] = [(root, False)]
    open_nodes: set[int] = set()
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        if children_done:
            open_nodes.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes[id(child)] for child in children)
            continue
        if id(node) in open_nodes:
            raise _RecursiveAlias(node)
        open_nodes.add(id(node))
        stack.append((node, True))
        for child in children:
            if id(child) in open_nodes:  # name the alias closing the loop, where known
                raise _RecursiveAlias(node if isinstance(node, _AliasNode) else child)
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes[id(root)]


class _RecursiveAlias(Exception):
    def __init__(self, node: Node) -> None:
        self.node = node


def needs_quotes(text: str) -> bool:
    """Whether a string written plain would be read as something else by YAML 1.1 or 1.2.

    Control characters, NEL and line/paragraph separators need double quotes too: only
    there are they escaped rather than folded into spaces.
    """
    if _yaml12_type(text) != "str" or _FOLDED.search(text):
        return True
    resolved = _Loader.yaml_implicit_resolvers.get(text[:1], []) if text else []
    return any(regexp.match(text) for _tag, regexp in resolved)
