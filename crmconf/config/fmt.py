"""Canonical formatting of configuration files that keeps every comment.

Canonical means: `crmconf:` first, then the sections in the kinds registry's order, then
`safety:` and `removed:`; the keys of an item in its model's field order, name (or
title) first; the items of unordered kinds sorted by name ignoring case, and group
children likewise — stages and the customer_info option lists keep their order, which
is meaningful; 2-space indentation with lists indented under their key; flow style
(`[a, b]`, `{name: x}`) kept where it is written; no line wrapping; one final newline;
no byte-order mark.

ruamel.yaml reads the file in round-trip mode, because PyYAML drops comments. It hangs
each comment on the token before it, so a comment line above an item would travel with
the item before it when a list is sorted. Comments are therefore detached first — into
the lines above each entry and the comment at the end of its line — and put back after
sorting. Two checks guard every result: the new text must validate to the same
document (lists of unordered kinds compared as sets), and hold the same comments.
"""

from __future__ import annotations

import functools
import io
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.composer import Composer
from ruamel.yaml.emitter import RoundTripEmitter
from ruamel.yaml.error import CommentMark, MarkedYAMLError, YAMLError
from ruamel.yaml.events import MappingEndEvent, ScalarEvent, SequenceEndEvent
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString
from ruamel.yaml.tokens import CommentToken

from crmconf.config.document import Safety, document_model
from crmconf.config.files import DROP, read_bytes
from crmconf.config.loader import validate_file
from crmconf.config.yaml_source import parse, read_text
from crmconf.errors import ConfigError, CrmconfError, Location, Problem
from crmconf.kinds import ALL_KINDS, generation
from crmconf.model.kind import Kind
from crmconf.model.names import UNSEEN, identity

INDENT = 2
"""Columns per nesting level; a list's dash stands this far in from its key."""


@dataclass(frozen=True)
class FormattedFile:
    """A configuration file and its canonical text."""

    path: Path
    original: bytes
    text: str

    @property
    def changed(self) -> bool:
        return self.text.encode("utf-8") != self.original


def format_file(path: Path, overlay: bool = False) -> FormattedFile:
    """Read one configuration file (an environment's overlay file: `overlay`) and compute
    its canonical text; never writes."""
    data = read_bytes(path)  # a regular file, up to the size limit: never a pipe that blocks
    text = read_text(str(path), data)
    return FormattedFile(path, data, format_text(str(path), text, overlay))


def format_text(file: str, text: str, overlay: bool = False) -> str:
    """The canonical form of one configuration file's text.

    Raises ConfigError when the file is invalid on its own (YAML or document model;
    rules across files are `crmconf validate`'s) or holds a comment ruamel.yaml cannot
    keep, and CrmconfError when the result would not mean the same (a bug).
    """
    meaning = _overlay_meaning if overlay else _meaning
    shape = _document_shape(overlay)
    before = meaning(file, text)
    header, document, trailer = _outside_document(text)
    yaml = _yaml()
    try:
        root = yaml.load(document)
    except (MarkedYAMLError, YAMLError) as error:
        raise _unreadable(file, error) from None
    if isinstance(root, CommentedMap):
        root.fa.set_block_style()  # sections one per line, even from `{crmconf: 1, …}`
    notes = _Detacher().detach(root, header, trailer)
    origins: dict[int, list[int]] = {}
    _arrange(root, shape, origins, _aliased(root))
    _Reattacher(notes, origins).reattach(root)
    stream = io.StringIO()
    yaml.dump(root, stream)
    formatted = stream.getvalue()
    _check_unchanged(file, before, text, formatted, meaning)
    return formatted


def _outside_document(text: str) -> tuple[list[str], str, list[str]]:
    """The comment lines before the document and after its end marker (`...`), and the rest.

    ruamel.yaml drops comments above a `---` or a top-level `{`, and below a `...`.
    """
    lines = text.splitlines(keepends=True)
    start = 0
    while start < len(lines) and (not lines[start].strip() or lines[start].lstrip()[0] == "#"):
        start += 1
    end = next(
        (index for index in range(start, len(lines)) if re.match(r"\.\.\.(\s|$)", lines[index])),
        len(lines),
    )
    on_marker = _lines(lines[end][3:]) if end < len(lines) else []
    return (
        _lines("".join(lines[:start])),
        "".join(lines[start:end]),
        [*filter(None, on_marker), *_lines("".join(lines[end + 1 :]))],
    )


class _Composer(Composer):
    """Keeps the comment lines above a `[…]` or `{…}` whose line ends with a comment:
    ruamel.yaml 0.19 replaces the former with the latter."""

    def compose_sequence_node(self, anchor: Any) -> Any:
        above = self.parser.peek_event().comment
        return _with_comment_above(super().compose_sequence_node(anchor), above)

    def compose_mapping_node(self, anchor: Any) -> Any:
        above = self.parser.peek_event().comment
        return _with_comment_above(super().compose_mapping_node(anchor), above)


def _with_comment_above(node: Any, above: Any) -> Any:
    if node.flow_style and above and above[1] and node.comment is not above:
        after = node.comment or [None, None]
        node.comment = [after[0] or above[0], [*above[1], *(after[1] or ())], *after[2:]]
    return node


class _Emitter(RoundTripEmitter):
    def expect_node(
        self,
        root: bool = False,
        sequence: bool = False,
        mapping: bool = False,
        simple_key: bool = False,
    ) -> None:
        # ruamel.yaml writes every printable character as itself, so an escaped bidi
        # control ("\u202e") would become one that reorders the line in an editor or a
        # diff: a text holding one (or a zero-width character) is written with escapes.
        unseen = isinstance(self.event, ScalarEvent) and UNSEEN.search(self.event.value)
        self.allow_unicode = not unseen
        try:
            super().expect_node(root, sequence, mapping, simple_key)
        finally:
            self.allow_unicode = True

    def write_post_comment(self, event: Any) -> bool:
        written: bool = super().write_post_comment(event)
        if written and isinstance(event, MappingEndEvent | SequenceEndEvent):
            # ruamel.yaml 0.19 forgets this after `- {…}  # comment`, which would join the
            # lines of a mapping in the next list item into one invalid line.
            self.no_newline = False
        return written


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.Composer = _Composer
    yaml.Emitter = _Emitter
    yaml.preserve_quotes = True  # `"No"` must stay quoted: plain, YAML 1.1 reads a boolean
    yaml.width = 1_000_000
    yaml.indent(mapping=INDENT, sequence=2 * INDENT, offset=INDENT)
    return yaml


def _unreadable(file: str, error: YAMLError) -> ConfigError:
    mark = getattr(error, "problem_mark", None)
    where = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file, 1, 1)
    return ConfigError(
        [
            Problem(
                f"ruamel.yaml cannot read this file, so it cannot be formatted: {error}",
                where,
                "the file is valid; format it by hand",
            )
        ]
    )


# The canonical order, read off the kinds registry.


@dataclass(frozen=True)
class _Mapping:
    """A mapping whose keys have a canonical order; `values` describes the nested ones."""

    keys: tuple[str, ...]
    values: dict[str, _Mapping | _Items] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class _Items:
    """A list of one kind's items, or of its entries under `removed:`."""

    kind: Kind
    removed: bool = False

    @property
    def sorted(self) -> bool:
        return not self.kind.ordered


_Shape = _Mapping | _Items


def _document_shape(overlay: bool = False) -> _Mapping:
    """`crmconf:`, the kinds' sections, then the document's other keys in model order;
    an overlay's `drop:` right after the sections it drops from."""
    return _document_shape_of(generation(), overlay)


@functools.cache
def _document_shape_of(_generation: int, overlay: bool) -> _Mapping:
    main, removed = _sections_shape(removed=False), _sections_shape(removed=True)
    others = [key for key in document_model().model_fields if key not in ("crmconf", *main.keys)]
    safety = _Mapping(tuple(Safety.model_fields))
    drop: dict[str, _Shape] = {DROP: _sections_shape(removed=True)} if overlay else {}
    return _Mapping(
        ("crmconf", *main.keys, *drop, *others),
        {**main.values, "safety": safety, "removed": removed, **drop},
    )


def _sections_shape(removed: bool) -> _Mapping:
    keys: dict[str, list[str]] = {}
    values: dict[str, _Shape] = {}
    nested: dict[str, dict[str, _Shape]] = {}
    for kind in ALL_KINDS:
        if removed and kind.is_switch:
            continue
        head, *rest = kind.section
        keys.setdefault(head, []).extend(rest[:1])
        if kind.is_switch:
            continue
        if rest:
            nested.setdefault(head, {})[rest[0]] = _Items(kind, removed)
        else:
            values[head] = _Items(kind, removed)
    for head, children in keys.items():
        if children:
            values[head] = _Mapping(tuple(children), nested.get(head, {}))
    return _Mapping(tuple(keys), values)


@functools.cache
def _item_shape(items: _Items) -> _Mapping:
    """An item's keys: its name (or title) first, then its model's fields in order."""
    kind = items.kind
    model = kind.removal_model if items.removed else kind.item_model
    assert model is not None  # switches hold no items
    names = tuple(name for name in model.model_fields if name != kind.key_field)
    children: dict[str, _Shape] = {"children": items} if kind.tree and not items.removed else {}
    return _Mapping((kind.key_field, *names), children)


def _sort_key(item: Any, key_field: str) -> str:
    name = item.get(key_field, "") if isinstance(item, dict) else item
    return identity(str(name))


def _arrange(node: Any, shape: _Shape, origins: dict[int, list[int]], aliased: set[int]) -> None:
    """Put a document in canonical order in place; `origins` records how lists moved.

    What an alias (`*name`) repeats stays as written: its other use may need the order.
    """
    if isinstance(shape, _Mapping):
        if not isinstance(node, CommentedMap):
            return
        if id(node) not in aliased:
            rank = {key: index for index, key in enumerate(shape.keys)}
            for key in sorted(node, key=lambda key: rank.get(key, len(rank))):
                node.move_to_end(key)
        for key, value in node.items():
            if key in shape.values:
                _arrange(value, shape.values[key], origins, aliased)
        return
    if not isinstance(node, CommentedSeq) or id(node) in origins:
        return
    order = list(range(len(node)))
    if shape.sorted and id(node) not in aliased:
        items = list(node)
        order.sort(key=lambda index: _sort_key(items[index], shape.kind.key_field))
        list.__init__(node, [items[index] for index in order])
    origins[id(node)] = order
    for item in node:
        _arrange(item, _item_shape(shape), origins, aliased)


def _aliased(root: Any) -> set[int]:
    """The collections that stand in the document more than once."""
    seen: set[int] = set()
    repeated: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if not _is_collection(node):
            continue
        if id(node) in seen:
            repeated.add(id(node))
            continue
        seen.add(id(node))
        stack.extend(node.values() if isinstance(node, CommentedMap) else node)
    return repeated


# Comments: detached from where ruamel.yaml hangs them, put back after sorting.

_Slot = tuple[int, Any]
"""An entry of a collection: the collection's id and the key, or the index read."""


@dataclass
class _Note:
    """The comments belonging to one entry."""

    line: int
    """Where the entry starts in the file read (0-based), to recognise end-of-line comments."""
    before: list[str] = field(default_factory=list)
    """Comment lines and blank lines ('') above the entry, without indentation."""
    end_of_line: tuple[str, int] | None = None
    """The comment ending the entry's line, and its column."""
    indicator: list[str] | None = None
    """The comment after a block scalar's `|` or `>`, as ruamel.yaml keeps it."""


@dataclass
class _Notes:
    entries: dict[_Slot, _Note]
    header: list[str]
    """Comment lines above the first entry of the document: they stay at the top."""
    trailer: list[str]
    """Comment lines after the last entry."""


def _is_collection(value: Any) -> bool:
    return isinstance(value, CommentedMap | CommentedSeq)


def _is_block(value: Any) -> bool:
    return _is_collection(value) and not value.fa.flow_style()


def _is_block_scalar(value: Any) -> bool:
    return isinstance(value, LiteralScalarString | FoldedScalarString)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()]


def _single_blanks(lines: list[str]) -> list[str]:
    """Runs of blank lines shortened to one."""
    return [line for index, line in enumerate(lines) if line or index == 0 or lines[index - 1]]


def _without_leading_blanks(lines: list[str]) -> list[str]:
    while lines and not lines[0]:
        lines = lines[1:]
    return lines


def _without_trailing_blanks(lines: list[str]) -> list[str]:
    while lines and not lines[-1]:
        lines = lines[:-1]
    return lines


def _has_inner_comments(node: Any) -> bool:
    """Whether a flow collection holds comments between its brackets."""
    ca = node.ca
    if ca.end or (ca.comment and ca.comment[1]):
        return True
    if any(part for entry in ca.items.values() for part in entry):
        return True
    children = node.values() if isinstance(node, CommentedMap) else node
    return any(
        _is_collection(child)
        and ((child.ca.comment and child.ca.comment[0]) or _has_inner_comments(child))
        for child in children
    )


class _Detacher:
    """Walks the document as read, in file order, assigning each comment to its entry.

    ruamel.yaml keeps a comment after the entry before it: the end-of-line comment and the
    full lines below it in one token. The full lines belong to the next entry in file
    order, at whatever depth it stands.
    """

    def __init__(self) -> None:
        self.entries: dict[_Slot, _Note] = {}
        self.pending: list[str] = []
        self.last: _Note | None = None
        self.read: set[int] = set()
        """Tokens already assigned: ruamel.yaml keeps some in two places."""
        self.visited: set[int] = set()

    def detach(self, root: Any, header: list[str], trailer: list[str]) -> _Notes:
        """Every comment of the document, given those above and below it."""
        self._walk(root)
        first = self.entries.get((id(root), next(iter(root), None)))
        if first is not None:
            header, first.before = [*header, *first.before], []
        for note in self.entries.values():
            note.before = _single_blanks(note.before)
        return _Notes(
            self.entries,
            _without_leading_blanks(_single_blanks(header)),
            _without_trailing_blanks(_single_blanks([*self.pending, *trailer])),
        )

    def _fresh(self, token: Any) -> bool:
        if token is None or id(token) in self.read:
            return False
        self.read.add(id(token))
        return True

    def _full_lines(self, tokens: Any) -> None:
        for token in tokens or ():
            if not self._fresh(token):
                continue
            lines = _lines(token.value)
            if self.last and lines and lines[0] and token.start_mark.line == self.last.line:
                # Written between brackets on the line of the entry before: it ends that line.
                self._end_of_line(lines.pop(0), token.column)
            self.pending.extend(lines)

    def _after(self, token: Any, block_scalar: bool = False) -> None:
        """A token after an entry: its first line ends the entry's line (not after `|`)."""
        if not self._fresh(token):
            return
        text = token.value
        if not block_scalar:
            first, _, text = text.partition("\n")
            if first.strip():
                self._end_of_line(first.strip(), token.column)
        self.pending.extend(_lines(text))

    def _end_of_line(self, comment: str, column: int) -> None:
        if self.last is not None and self.last.end_of_line is None:
            self.last.end_of_line = (comment, column)
        else:
            self.pending.append(comment)

    def _entry(self, slot: _Slot, line: int) -> None:
        self.last = self.entries[slot] = _Note(line, self.pending)
        self.pending = []

    def _walk(self, node: Any) -> None:
        if not _is_collection(node) or id(node) in self.visited:
            return
        self.visited.add(id(node))
        if node.fa.flow_style():
            if not _has_inner_comments(node):
                return
            node.fa.set_block_style()  # the only way to keep comments written between brackets
        if node.ca.comment:
            self._after(node.ca.comment[0])
            self._full_lines(node.ca.comment[1])
        if isinstance(node, CommentedMap):
            for key, value in node.items():
                self._map_entry(node, key, value)
        else:
            for index, value in enumerate(node):
                self._seq_entry(node, index, value)
        self._full_lines(node.ca.end)

    def _map_entry(self, node: CommentedMap, key: Any, value: Any) -> None:
        tokens = node.ca.items.get(key) or [None] * 4
        self._full_lines(tokens[1])
        self._entry((id(node), key), node.lc.key(key)[0])
        self._after(tokens[0])
        if _is_block(value):
            self._after(tokens[2])
            self._full_lines(tokens[3])
            self._walk(value)
        elif _is_block_scalar(value):
            self._after(tokens[2], block_scalar=True)
            self.entries[(id(node), key)].indicator = tokens[3]
        else:
            self._walk(value)
            self._after(tokens[2])
            self._full_lines(tokens[3])

    def _seq_entry(self, node: CommentedSeq, index: int, value: Any) -> None:
        tokens = node.ca.items.get(index) or [None] * 4
        self._full_lines(tokens[1])
        self._entry((id(node), index), node.lc.item(index)[0])
        self._walk(value)
        self._after(tokens[0], _is_block_scalar(value))


@dataclass
class _After:
    """What to print after an entry: its end-of-line comment, then lines for what follows."""

    node: Any
    key: Any
    block_scalar: bool
    end_of_line: tuple[str, int] | None = None
    indicator: list[str] | None = None
    lines: list[tuple[str, int]] = field(default_factory=list)
    """Comment lines with the column each is indented to."""


class _Reattacher:
    """Walks the sorted document in output order and hangs each comment where ruamel.yaml
    prints it: lines above an entry go after the entry printed before it."""

    def __init__(self, notes: _Notes, origins: dict[int, list[int]]) -> None:
        self.notes = notes
        self.origins = origins
        self.afters: list[_After] = []
        self.header: list[tuple[str, int]] = [(line, 0) for line in notes.header]
        self.pending: list[tuple[str, int]] = []
        self.line_column: int | None = None
        """Column of the dash starting the current line, when a list item holds a mapping."""
        self.visited: set[int] = set()

    def reattach(self, root: Any) -> None:
        self._clear(root, set())
        self._walk(root, 0)
        self._flush([(line, 0) for line in self.notes.trailer])
        if self.header and isinstance(root, CommentedMap):
            root.ca.comment = [
                None,
                [_token(f"{_indented(line, column)}\n", 0) for line, column in self.header],
            ]
        for after in self.afters:
            _hang(after)

    def _clear(self, node: Any, seen: set[int]) -> None:
        if not _is_collection(node) or id(node) in seen:
            return
        seen.add(id(node))
        node.ca.comment = None
        node.ca.items.clear()
        node.ca.end.clear()
        for child in node.values() if isinstance(node, CommentedMap) else node:
            self._clear(child, seen)

    def _flush(self, lines: list[tuple[str, int]]) -> None:
        if self.afters:
            self.afters[-1].lines.extend(lines)
        else:
            self.header.extend(lines)

    def _walk(self, node: Any, column: int) -> None:
        if not _is_block(node) or id(node) in self.visited:
            return
        self.visited.add(id(node))
        if isinstance(node, CommentedMap):
            for position, (key, value) in enumerate(node.items()):
                carrier = _After(node, key, _is_block_scalar(value))
                self._entry(self._note(node, key), column, position == 0, carrier)
                self._walk(value, column + INDENT)
            return
        origin = self.origins.get(id(node), list(range(len(node))))
        for index, value in enumerate(node):
            # A list item holding a mapping carries no comment: its first key does.
            item = None if _is_block(value) else _After(node, index, _is_block_scalar(value))
            self._entry(self._note(node, origin[index]), column, index == 0, item)
            self._walk(value, column + INDENT)

    def _note(self, node: Any, read_as: Any) -> _Note:
        return self.notes.entries.get((id(node), read_as)) or _Note(0)

    def _entry(self, note: _Note, column: int, first: bool, after: _After | None) -> None:
        before = note.before
        if first and not self.pending:
            before = _without_leading_blanks(before)  # no blank line right below `key:`
        if self.line_column is None:
            self.line_column = column
        self.pending.extend((line, self.line_column) for line in before)
        if after is None:
            return
        self._flush(self.pending)
        self.pending, self.line_column = [], None
        after.end_of_line, after.indicator = note.end_of_line, note.indicator
        self.afters.append(after)


def _indented(line: str, column: int = 0) -> str:
    return " " * column + line if line else ""


def _token(text: str, column: int) -> CommentToken:
    return CommentToken(text, CommentMark(column), None)


def _hang(after: _After) -> None:
    body = "".join(f"{_indented(line, column)}\n" for line, column in after.lines)
    token: CommentToken | None = None
    if after.block_scalar:
        # ruamel.yaml prints this at the start of the line after the scalar.
        if body:
            token = _token(body.lstrip(" "), len(body) - len(body.lstrip(" ")))
    elif after.end_of_line is not None or body:
        comment, column = after.end_of_line or ("", 0)
        token = _token(f"{comment}\n{body}", column)
    if token is None and after.indicator is None:
        return
    if isinstance(after.node, CommentedMap):
        after.node.ca.items[after.key] = [None, None, token, after.indicator]
    else:
        after.node.ca.items[after.key] = [token, None, None, None]


# The guards: same document, same comments.


def _check_unchanged(
    file: str, before: Any, text: str, formatted: str, meaning: Callable[[str, str], Any]
) -> None:
    def refuse(what: str) -> CrmconfError:
        return CrmconfError(
            f"{file}: formatting would {what}; the file was left as it is "
            "(this is a bug in crmconf fmt: please report it with the file)"
        )

    try:
        after = meaning(file, formatted)
    except ConfigError:
        raise refuse("make it invalid") from None
    if before != after:
        raise refuse("change what it configures")
    lost = _comments(text) - _comments(formatted)
    if lost:
        raise ConfigError([_lost(file, text, comment) for comment in lost])
    if _comments(formatted) != _comments(text):
        raise refuse("add a comment")


def _lost(file: str, text: str, comment: str) -> Problem:
    where = Location(file, 1, 1)
    for number, line in enumerate(text.splitlines(), 1):
        if comment in line:
            where = Location(file, number, line.index(comment) + 1)
            break
    return Problem(
        f"cannot format without losing the comment {comment!r}; the file was left as it is",
        where,
        "ruamel.yaml cannot keep a comment there (between the braces of `{ … }`, for one): "
        "move it onto its own line above the item",
    )


def _meaning(file: str, text: str) -> Any:
    """What a configuration file configures: its validated document as plain values,
    lists of unordered kinds sorted. Raises ConfigError when the file is invalid."""
    plain = validate_file(file, text).model_dump(mode="json")
    _sort_lists(plain, _document_shape())
    return plain


def _overlay_meaning(file: str, text: str) -> Any:
    """The same for an overlay file, which holds partial items and `drop:`: its values as
    written, checked against the overlay's JSON Schema (the base decides the rest)."""
    from crmconf.config.environments import overlay_validator

    source = parse(file, text)
    errors = sorted(
        overlay_validator().iter_errors(source.value), key=lambda error: list(error.path)
    )
    if source.value is None or errors:
        where = tuple(errors[0].absolute_path) if errors else ()
        what = errors[0].message if errors else "the file is empty"
        raise ConfigError(
            [
                Problem(
                    f"not a valid overlay file: {what}",
                    source.location(where) if errors else Location(file, 1, 1),
                    "see schemas/crmconf-overlay.schema.json (crmconf schema --overlay)",
                )
            ]
        )
    plain = json.loads(json.dumps(source.value))
    _sort_lists(plain, _document_shape(overlay=True))
    return plain


def _sort_lists(value: Any, shape: _Shape) -> None:
    if isinstance(shape, _Mapping):
        if isinstance(value, dict):
            for key, nested in shape.values.items():
                _sort_lists(value.get(key), nested)
        return
    if not isinstance(value, list):
        return
    for item in value:
        _sort_lists(item, _item_shape(shape))
    if shape.sorted:
        value.sort(key=lambda item: json.dumps(item, sort_keys=True, ensure_ascii=False))


def _comments(text: str) -> Counter[str]:
    """Every comment in a YAML text, as the scanner reads it (independent of the tree)."""
    found: Counter[str] = Counter()
    tokens: list[Any] = []
    for token in YAML(typ="rt").scan(text):
        comment = getattr(token, "_comment", None)
        for part in comment or ():
            tokens.extend(part if isinstance(part, list) else [part])
    for token in tokens:
        text = token if isinstance(token, str) else getattr(token, "value", "")
        found.update(line for line in _lines(text) if line)
    return found
