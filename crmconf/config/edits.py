"""Edits to a configuration file's text that change only what they must (`crmconf pull`).

A file is composed with PyYAML (no values built), and every edit is a replacement of
one span of its text: a value, an entry of a list, or an insertion after a line. Nothing
outside the spans moves, so comments, order, quoting, flow or block style and blank
lines all stay as they were; what is new is written the way `crmconf export` writes it.
The edits of one file are applied together from its end, and two that overlap are a bug
(crmconf builds at most one edit per value).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from crmconf.config.export import block_lines, flow_text
from crmconf.config.files import DROP, read_bytes
from crmconf.config.variables import references_variables, substituted_text
from crmconf.config.yaml_source import read_text
from crmconf.errors import CrmconfError, Location
from crmconf.model.kind import Kind
from crmconf.model.names import identity

_BOM = "\ufeff"
_COMMENT_GAP = re.compile(r"[ \t]+(?=#)")
"""The blanks between a value and the comment after it on its line."""


@dataclass(frozen=True)
class Edit:
    """Replace `text[start:end]` with `new`; an insertion has start == end."""

    start: int
    end: int
    new: str
    order: int = 0
    """Among insertions at one place, which comes first."""


@dataclass
class Entry:
    """One item's entry in a file: a bare name or a mapping, in a list."""

    source: SourceFile
    node: ScalarNode | MappingNode
    sequence: SequenceNode
    """The list it is an item of."""
    list_key: ScalarNode
    """The key of that list (the section's, or `children`)."""
    parent: Entry | None
    name: str
    """As written, `${NAME}` values substituted."""

    @property
    def location(self) -> Location:
        mark = self.node.start_mark
        return Location(str(self.source.path), mark.line + 1, mark.column + 1)

    def pair(self, key: str) -> tuple[ScalarNode, Node] | None:
        if not isinstance(self.node, MappingNode):
            return None
        for key_node, value in self.node.value:
            if isinstance(key_node, ScalarNode) and key_node.value == key:
                return key_node, value
        return None

    def writes(self, key: str) -> bool:
        return self.pair(key) is not None

    @property
    def children(self) -> SequenceNode | None:
        found = self.pair("children")
        return found[1] if found and isinstance(found[1], SequenceNode) else None


@dataclass
class SourceFile:
    """A configuration file's text, composed once, and the edits planned for it."""

    path: Path
    text: str
    bom: bool
    root: Node | None
    variables: Mapping[str, str]
    cr: bool = False
    """Whether the file ends its lines with CR alone (classic Mac OS): its text here has
    LF in their place (one character for one, so places stay), written back as CR."""
    aliased: bool = False
    """Whether the file uses YAML aliases (`*name`): one text stands for several values
    there, so pull changes nothing in it."""
    edits: list[Edit] = field(default_factory=list)
    _order: int = 0
    _index: dict[str, dict[str, Entry]] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path, variables: Mapping[str, str]) -> SourceFile:
        data = read_bytes(path)
        bom = data.startswith(_BOM.encode())
        text = read_text(str(path), data).removeprefix(_BOM)
        cr = "\r" in text and "\n" not in text
        text = text.replace("\r", "\n") if cr else text
        # The loader read this very file a moment ago, but its parser (libyaml) allows a
        # tab where PyYAML's, whose marks count characters as the edits do, does not
        # (`- Bygg\t# comment`). A space in its place composes the same nodes at the same
        # places; the values pull reads from them (names, logins) cannot hold a tab.
        try:
            root = yaml.compose(text.replace("\t", " "), Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark
            where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
            raise CrmconfError(
                f"{where}: crmconf pull cannot read this file's layout ({error.problem}), "
                "though it loads; nothing was written. Write that line more plainly, or "
                "report it as a bug in crmconf with the file"
            ) from None
        if root is not None:
            _end_block_scalars_at_their_text(root, text)
        aliased = root is not None and _aliased(root)
        return cls(path, text, bom, root, variables, cr=cr, aliased=aliased)

    # Finding what is written.

    def section(self, kind: Kind) -> tuple[ScalarNode, Node] | None:
        """The key and value of a kind's section, where this file writes it."""
        node = self.root
        found: tuple[ScalarNode, Node] | None = None
        for part in kind.section:
            if not isinstance(node, MappingNode):
                return None
            found = next(
                (
                    (key, value)
                    for key, value in node.value
                    if isinstance(key, ScalarNode) and key.value == part
                ),
                None,
            )
            if found is None:
                return None
            node = found[1]
        return found

    def entries(self, kind: Kind) -> Iterator[Entry]:
        """Every entry of a kind's list here, a tree's at every depth."""
        section = self.section(kind)
        if section is None or not isinstance(section[1], SequenceNode):
            return
        yield from self._entries(kind, section[0], section[1], None)

    def _entries(
        self, kind: Kind, key: ScalarNode, sequence: SequenceNode, parent: Entry | None
    ) -> Iterator[Entry]:
        for node in sequence.value:
            name = self.name_of(kind, node)
            if name is None or not isinstance(node, ScalarNode | MappingNode):
                continue
            entry = Entry(self, node, sequence, key, parent, name)
            yield entry
            children = entry.children if kind.tree else None
            if children is not None:
                found = entry.pair("children")
                assert found is not None
                yield from self._entries(kind, found[0], children, entry)

    def name_of(self, kind: Kind, node: Node) -> str | None:
        """The name an entry node is written with, `${NAME}` values substituted."""
        if isinstance(node, ScalarNode):
            return self.substituted(node.value)
        if isinstance(node, MappingNode):
            for key, value in node.value:
                if isinstance(key, ScalarNode) and key.value == kind.key_field:
                    return self.substituted(value.value) if isinstance(value, ScalarNode) else None
        return None

    def substituted(self, value: str) -> str:
        return substituted_text(value, self.variables)

    def find(self, kind: Kind, name: str) -> Entry | None:
        """The entry of an item here, by identity (the first, as the loader merges)."""
        index = self._index.get(kind.name)
        if index is None:
            index = self._index[kind.name] = {}
            for entry in self.entries(kind):
                index.setdefault(identity(entry.name), entry)
        return index.get(identity(name))

    def drops(self, kind: Kind, name: str) -> Location | None:
        """Where this file (an overlay) names an item under `drop:`, if it does."""
        node = self.root
        for part in (DROP, *kind.section):
            if not isinstance(node, MappingNode):
                return None
            node = next(
                (v for k, v in node.value if isinstance(k, ScalarNode) and k.value == part), None
            )
        if not isinstance(node, SequenceNode):
            return None
        for item in node.value:
            if isinstance(item, ScalarNode) and identity(self.substituted(item.value)) == identity(
                name
            ):
                mark = item.start_mark
                return Location(str(self.path), mark.line + 1, mark.column + 1)
        return None

    def moves_to(self, kind: Kind, name: str) -> list[ScalarNode]:
        """The values of `removed:` entries here that move their data to an item."""
        if kind.migration is None:
            return []
        node = self.root
        for part in ("removed", *kind.section):
            if not isinstance(node, MappingNode):
                return []
            node = next(
                (v for k, v in node.value if isinstance(k, ScalarNode) and k.value == part), None
            )
        found: list[ScalarNode] = []
        for entry in node.value if isinstance(node, SequenceNode) else ():
            for key, value in entry.value if isinstance(entry, MappingNode) else ():
                if (
                    isinstance(key, ScalarNode)
                    and key.value == kind.migration.move_field
                    and isinstance(value, ScalarNode)
                    and identity(self.substituted(value.value)) == identity(name)
                ):
                    found.append(value)
        return found

    def rename_reference(self, node: ScalarNode, name: str) -> None:
        self._add(node.start_mark.index, _end(node), flow_text(name))

    def has_variable(self, node: Node) -> bool:
        """Whether a value is written with `${NAME}`: pull leaves it to whoever sets NAME."""
        return references_variables(self.text[node.start_mark.index : _end(node)])

    # Planning edits.

    def _add(self, start: int, end: int, new: str) -> None:
        self._order += 1
        self.edits.append(Edit(start, end, new, self._order))

    def set_switch(self, value_node: Node, enabled: bool) -> None:
        self._add(value_node.start_mark.index, _end(value_node), "true" if enabled else "false")

    def update(
        self, entry: Entry, kind: Kind, fields: Mapping[str, Any], name: str | None = None
    ) -> None:
        """Set fields of an entry (and its name, with `name`), each where it is written or
        appended to the entry. A bare name becomes a mapping."""
        if not fields and name is None:
            return
        if isinstance(entry.node, ScalarNode):
            written = self.text[entry.node.start_mark.index : _end(entry.node)]
            pairs = [(kind.key_field, flow_text(name) if name is not None else written)]
            pairs += [(key, flow_text(value)) for key, value in fields.items()]
            start, end = entry.node.start_mark.index, _end(entry.node)
            if entry.sequence.flow_style:
                new = "{" + ", ".join(f"{key}: {value}" for key, value in pairs) + "}"
                self._add(start, end, new)
                return
            # The name's line keeps its comment; the fields go on lines after it.
            self._add(start, end, f"{pairs[0][0]}: {pairs[0][1]}")
            indent = "\n" + " " * entry.node.start_mark.column
            at = _line_end(self.text, end)
            self._add(at, at, "".join(f"{indent}{key}: {value}" for key, value in pairs[1:]))
            return
        if name is not None:
            found = entry.pair(kind.key_field)
            assert found is not None
            self._replace_value(*found, name)
        for key, value in fields.items():
            found = entry.pair(key)
            if found is None:
                self._append_pair(entry.node, key, value)
            elif _block_of_names(found[1]) and isinstance(value, list):
                self._replace_items(found[0], found[1], value)
            else:
                self._replace_value(*found, value)

    def _replace_value(self, key: ScalarNode, node: Node, value: Any) -> None:
        start = node.start_mark.index
        if isinstance(node, SequenceNode) and not node.flow_style:
            if value:
                indent = "\n" + " " * node.start_mark.column
                new = indent.join(f"- {flow_text(item)}" for item in value)
                self._add(start, _end(node), new)
                return
            # `[]` cannot stand where the dash of a block list was (it may be at the key's
            # column): it goes after the key, with a comment written there.
            between = self.text[key.end_mark.index : start]
            comment = between[between.find("#") :].split("\n")[0].rstrip() if "#" in between else ""
            new = ": []" + (f"  {comment}" if comment else "")
            self._add(key.end_mark.index, _end(node), new)
            return
        self._add(start, _end(node), flow_text(value))

    def _replace_items(self, key: ScalarNode, sequence: Node, names: list[Any]) -> None:
        """Make a block list of names hold `names` (an unordered set: members,
        renamed_from) line by line: an item that stays keeps its line and the comment on
        it, one that goes loses its line, a new one comes after the last."""
        assert isinstance(sequence, SequenceNode)
        wanted = {identity(str(name)) for name in names}
        written = {identity(self.substituted(node.value)) for node in sequence.value}
        kept = [node for node in sequence.value if identity(self.substituted(node.value)) in wanted]
        if not names:
            end = _line_end(self.text, _end(sequence))
            self._add(key.end_mark.index, end, ": []")
            return
        for node in sequence.value:
            if node not in kept:
                # From the end of the line before, so that what is added after the list
                # (at the end of its last line) does not fall inside the span.
                start = _line_start(self.text, _dash(self.text, node)) - 1
                start -= self.text[start - 1] == "\r"
                self._add(start, _line_end(self.text, _end(node)), "")
        new = [name for name in names if identity(str(name)) not in written]
        # After the last line, where no line taken out can overlap the new ones.
        self.insert(sequence, new, kept[-1] if kept else sequence.value[-1], kept)

    def _append_pair(self, mapping: MappingNode, key: str, value: Any) -> None:
        last = mapping.value[-1][1]
        if mapping.flow_style:
            self._add(_end(last), _end(last), f", {key}: {flow_text(value)}")
            return
        column = mapping.value[0][0].start_mark.column
        # After the item's own values, above its subitems: where fmt puts a new key.
        own = [value for key_node, value in mapping.value if key_node.value != "children"]
        at = _line_end(self.text, _end(own[-1] if own else last))
        if isinstance(value, list) and value and isinstance(value[0], dict):
            lines = [f"{key}:", *("  " + line for entry in value for line in block_lines(entry))]
        else:
            lines = [f"{key}: {flow_text(value)}"]
        self._add(at, at, "".join("\n" + " " * column + line for line in lines))

    def remove(self, entries: Sequence[Entry], receiving: set[int]) -> None:
        """Take entries out of the lists they are in (each list at most once per call);
        `receiving`: the ids of lists new entries go into, which must stay lists."""
        by_list: dict[int, list[Entry]] = {}
        for entry in entries:
            by_list.setdefault(id(entry.sequence), []).append(entry)
        for removed in by_list.values():
            sequence = removed[0].sequence
            gone = {id(entry.node) for entry in removed}
            if sequence.flow_style:
                self._remove_flow(sequence, gone)
            elif all(id(node) in gone for node in sequence.value) and id(sequence) not in receiving:
                # An empty block list would read as null: the list becomes `[]`.
                key = removed[0].list_key
                end = _line_end(self.text, _end(sequence))
                self._add(key.end_mark.index, end, ": []")
            else:
                for node in sequence.value:
                    if id(node) in gone:
                        start = _line_start(self.text, _dash(self.text, node))
                        end = self.text.find("\n", _end(node))
                        self._add(start, len(self.text) if end < 0 else end + 1, "")

    def _remove_flow(self, sequence: SequenceNode, gone: set[int]) -> None:
        items = sequence.value
        index = 0
        while index < len(items):
            if id(items[index]) not in gone:
                index += 1
                continue
            last = index
            while last + 1 < len(items) and id(items[last + 1]) in gone:
                last += 1
            if last + 1 < len(items):
                self._add(items[index].start_mark.index, items[last + 1].start_mark.index, "")
            elif index > 0 and (
                lines := self._trailing_lines(items[index - 1], items[index], items[last])
            ):
                comma, start, end = lines
                if comma is not None:
                    self._add(comma, comma + 1, "")
                self._add(start, end, "")
            elif index > 0:
                self._add(_end(items[index - 1]), _end(items[last]), "")
            else:
                self._add(items[index].start_mark.index, _end(items[last]), "")
            index = last + 1

    def _trailing_lines(
        self, kept: Node, first: Node, last: Node
    ) -> tuple[int | None, int, int] | None:
        """Where a flow list written one item per line ends with items taken out: the comma
        after the last item kept (None: the list ends with a comma, which stays), and the
        lines from the next to the last item's (its comment included), so that the kept
        item keeps its own comment; None when items share their lines."""
        comma = _end(kept)
        while self.text[comma] in " \t":
            comma += 1
        start = _line_start(self.text, first.start_mark.index)
        end = _line_end(self.text, _end(last))
        rest = self.text[_end(last) : end].lstrip(" \t")
        trailing = rest.startswith(",")  # `[a, b,]`: the kept item keeps its comma
        rest = rest.removeprefix(",").strip()
        if self.text[comma] != "," or start <= comma:
            return None
        if rest.startswith("]") and not trailing:
            # `  c]`: the `]` stays on that line, after the indentation.
            return comma, start, _end(last)
        if rest and not rest.startswith("#"):
            return None
        return (
            None if trailing else comma,
            start - 1 - (self.text[start - 2 : start] == "\r\n"),
            end,
        )

    def insert(
        self,
        sequence: SequenceNode,
        entries: Sequence[Any],
        after: Node | None,
        kept: Sequence[Node],
    ) -> None:
        """Insert entries into a list after one of its items (None: first), given the
        items that stay in it (`kept`, in order)."""
        if not entries:
            return
        if sequence.flow_style:
            texts = [flow_text(entry) for entry in entries]
            if after is not None:
                self._add(_end(after), _end(after), "".join(f", {text}" for text in texts))
            elif kept:
                first = kept[0].start_mark.index
                self._add(first, first, "".join(f"{text}, " for text in texts))
            else:
                closing = sequence.end_mark.index - 1
                self._add(closing, closing, ", ".join(texts))
            return
        column = _dash_column(self.text, sequence)
        lines = [" " * column + line for entry in entries for line in block_lines(entry)]
        if after is not None:
            at = _line_end(self.text, _end(after))
            self._add(at, at, "".join("\n" + line for line in lines))
        else:
            at = _line_start(self.text, _dash(self.text, sequence.value[0]))
            self._add(at, at, "".join(line + "\n" for line in lines))

    def add_children(self, entry: Entry, entries: Sequence[Any]) -> None:
        """Give an entry without `children:` its first ones."""
        if isinstance(entry.node, ScalarNode):
            raise CrmconfError(f"{entry.location}: {entry.name!r} is written as a bare name")
        self._append_pair(entry.node, "children", list(entries))

    # The result.

    def _anchored(self) -> list[Edit]:
        """The edits, with each line inserted after the end of an entry whose last lines
        are taken out (a removed last subitem) moved to above those lines."""
        removed = [
            edit
            for edit in self.edits
            if not edit.new
            and edit.start < edit.end
            and _line_start(self.text, edit.start) == edit.start
        ]
        edits = []
        for edit in self.edits:
            position = edit.start
            if edit.start == edit.end and edit.new.startswith("\n"):
                moved = True
                while moved:
                    moved = False
                    for span in removed:
                        if span.start < position < span.end and span.start > 0:
                            position, moved = _line_end(self.text, span.start - 1), True
            edits.append(
                Edit(position, position, edit.new, edit.order) if position != edit.start else edit
            )
        return edits

    def edited(self) -> str:
        """The file's text with every planned edit made."""
        edits = sorted(self._anchored(), key=lambda edit: (edit.start, edit.end, edit.order))
        for before, after in itertools.pairwise(edits):
            if before.end > after.start:
                raise CrmconfError(
                    f"crmconf pull planned two overlapping edits in {self.path} (at characters "
                    f"{before.start} and {after.start}); nothing was written. This is a bug in "
                    "crmconf: please report it with the file"
                )
        text = self.text
        crlf = "\r\n" in text  # a file written with CRLF line ends keeps them
        following = len(text)
        for edit in reversed(edits):
            start, end, new = edit.start, edit.end, edit.new
            if "\n" not in new and "\n" not in text[start:end]:
                # A comment after the value stays in its column where there is room.
                gap = _COMMENT_GAP.match(text, end)
                if gap is not None and gap.end() <= following:
                    spaces = len(gap[0]) - (len(new) - (end - start))
                    new += " " * max(min(2, len(gap[0])), spaces)
                    end = gap.end()
            following = start
            new = new.replace("\n", "\r\n") if crlf else new
            text = text[:start] + new + text[end:]
        return (_BOM if self.bom else "") + (text.replace("\n", "\r") if self.cr else text)


def _end(node: Node) -> int:
    """Where a node's text ends. A block collection's end mark lies past the comments and
    blank lines after it, so its end is its last value's."""
    if isinstance(node, ScalarNode) or getattr(node, "flow_style", False) or not node.value:
        return int(node.end_mark.index)
    last = node.value[-1]
    return _end(last[1] if isinstance(node, MappingNode) else last)


def _end_block_scalars_at_their_text(root: Node, text: str) -> None:
    """End each block scalar (`|`, `>`) at its last character: its end mark lies past the
    line breaks and blank lines after it, which a value written in its place must keep."""
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, ScalarNode) and node.style in ("|", ">"):
            end = node.end_mark.index
            while end > node.start_mark.index and text[end - 1] in " \t\r\n":
                end -= 1
            line = text.count("\n", 0, end)
            node.end_mark = yaml.Mark(
                node.end_mark.name, end, line, end - _line_start(text, end), None, 0
            )
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, MappingNode):
            stack.extend(item for pair in node.value for item in pair)


def _block_of_names(node: Node) -> bool:
    """Whether a value is a block list of plain values, one per line."""
    return (
        isinstance(node, SequenceNode)
        and not node.flow_style
        and bool(node.value)
        and all(isinstance(item, ScalarNode) for item in node.value)
    )


def _aliased(root: Node) -> bool:
    """Whether a node is reached twice (an alias), or its text came from a merge key."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            return True
        seen.add(id(node))
        if isinstance(node, SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                if isinstance(key, ScalarNode) and key.tag == "tag:yaml.org,2002:merge":
                    return True
                stack.extend((key, value))
    return False


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _line_end(text: str, index: int) -> int:
    """Where the line holding index ends, before its `\n` (or `\r\n`)."""
    end = text.find("\n", index)
    if end < 0:
        return len(text)
    return end - 1 if end > index and text[end - 1] == "\r" else end


def _dash(text: str, node: Node) -> int:
    """The `-` introducing a block list's item."""
    index = node.start_mark.index - 1
    while index > 0 and text[index] in " \t\n":
        index -= 1
    return index


def _dash_column(text: str, sequence: SequenceNode) -> int:
    dash = _dash(text, sequence.value[0])
    return dash - _line_start(text, dash)
