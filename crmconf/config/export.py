"""Write a target's settings in the configuration format, so that planning it is empty."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from crmconf.config.document import FORMAT_VERSION
from crmconf.config.yaml_source import needs_quotes
from crmconf.kinds import ALL_KINDS
from crmconf.model.kind import Kind
from crmconf.model.names import UNSEEN, identity
from crmconf.model.state import ExistingItem, State, refuse_duplicates


class _Dumper(yaml.SafeDumper):
    """Quotes every string a YAML 1.1 or 1.2 reader could take for something else, and
    never breaks an unquoted one over lines (the loader refuses a name written so), and
    indents lists under their key, as `crmconf fmt` does."""

    def write_plain(self, text: str, split: bool = True) -> None:
        super().write_plain(text, split=False)

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def expect_node(
        self,
        root: bool = False,
        sequence: bool = False,
        mapping: bool = False,
        simple_key: bool = False,
    ) -> None:
        # allow_unicode writes every printable character as itself, bidi controls and
        # zero-width ones too: a text holding one is written with escapes instead.
        unseen = isinstance(self.event, yaml.ScalarEvent) and UNSEEN.search(self.event.value)
        self.allow_unicode = not unseen
        try:
            super().expect_node(root, sequence, mapping, simple_key)
        finally:
            self.allow_unicode = True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    value = value.replace("${", "$${")  # loading substitutes variables: `$${` reads as `${`
    # A backslash is quoted too, so that every `\` of the output is inside double quotes,
    # where _unescape_astral can tell an escape from text.
    style = '"' if needs_quotes(value) or "\\" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ASTRAL_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\U([0-9A-Fa-f]{8})")
"""PyYAML's escape of a character beyond U+FFFF in a double-quoted scalar (not a written
backslash, which is doubled)."""


def _unescape_astral(text: str) -> str:
    """Write characters beyond U+FFFF (emoji, CJK extensions) as themselves, as ruamel.yaml
    and so `crmconf fmt` do; PyYAML escapes them in double quotes (`"\\U0001F389"`)."""

    return _ASTRAL_ESCAPE.sub(lambda match: match[1] + chr(int(match[2], 16)), text)


_Dumper.add_representer(str, _represent_str)


def item_entry(kind: Kind, item: ExistingItem) -> Any:
    """One existing item as the configuration writes it (short form where possible)."""
    fields = {k: v for k, v in item.fields.items() if k != "parent"}
    if item.protected:  # the planner compares it: left out, planning the export unprotects
        fields["protect"] = True
    if not fields and kind.item_model is not None and kind.item_model.SHORT_FORM:
        return item.name
    entry: dict[str, Any] = {kind.key_field: item.name}
    for field, value in fields.items():
        if value in ("", [], None):
            continue  # absent means empty: keep the export short
        entry[field] = value
    return entry


def _in_fmt_order(kind: Kind, items: Sequence[ExistingItem]) -> list[ExistingItem]:
    """`crmconf fmt`'s order, so an export is already formatted: an ordered kind's own
    order, any other kind's sorted by name, ignoring case."""
    if kind.ordered:
        return list(items)
    return sorted(items, key=lambda item: identity(item.name))


def _tree(kind: Kind, items: tuple[ExistingItem, ...]) -> list[Any]:
    children: dict[str | None, list[ExistingItem]] = defaultdict(list)
    names = {item.name for item in items}
    for item in items:
        parent = item.fields.get("parent")
        children[parent if parent in names else None].append(item)

    def build(parent: str | None) -> list[Any]:
        built = []
        for item in _in_fmt_order(kind, children.get(parent, [])):
            entry = item_entry(kind, item)
            below = build(item.name)
            if below:
                entry["children"] = below
            built.append(entry)
        return built

    return build(None)


def export_document(state: State) -> dict[str, Any]:
    """The configuration document describing every kind in the state."""
    document: dict[str, Any] = {"crmconf": FORMAT_VERSION}
    for kind in ALL_KINDS:
        if kind.name not in state.items:
            continue
        items = state.of(kind)
        refuse_duplicates(kind, items)
        value: Any
        if kind.is_switch:
            value = bool(items[0].fields["enabled"]) if items else False
        elif kind.tree:
            value = _tree(kind, items)
        else:
            value = [item_entry(kind, item) for item in _in_fmt_order(kind, items)]
        node = document
        for part in kind.section[:-1]:
            node = node.setdefault(part, {})
        node[kind.section[-1]] = value
    return document


_NO_WRAPPING = 1 << 30
"""fmt wraps no line, so neither does export."""

SCHEMA_FILE = "crmconf.schema.json"
"""The schema's file name, beside an exported configuration; its header points at it."""


def export_text(state: State, source: str) -> str:
    # A path beside the file: it resolves wherever the file is, offline too, and matches
    # the crmconf that wrote the file (export -o writes it; no URL serves the schema).
    header = (
        f"# yaml-language-server: $schema=./{SCHEMA_FILE}\n"
        f"# Exported by crmconf from {source}. The schema beside it: "
        f"crmconf schema -o {SCHEMA_FILE}\n"
    )
    body = yaml.dump(
        export_document(state),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=None,
        width=_NO_WRAPPING,
    )
    return header + _unescape_astral(body)


def unmanaged_yaml(unmanaged: Mapping[str, tuple[ExistingItem, ...]]) -> str:
    """Items left alone by `prune: false`, as YAML a user can paste into the configuration."""
    document: dict[str, Any] = {}
    for kind in ALL_KINDS:
        if kind.name not in unmanaged:
            continue
        node = document
        for part in kind.section[:-1]:
            node = node.setdefault(part, {})
        node[kind.section[-1]] = [item_entry(kind, item) for item in unmanaged[kind.name]]
    return yaml.dump(
        document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=None
    )


def flow_text(value: Any) -> str:
    """One value (a scalar, a list, an item's entry) on one line, as export writes it:
    what `crmconf pull` puts into a file in place of what was there."""
    text = yaml.dump(
        [value],
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=True,
        width=_NO_WRAPPING,
    )
    return _unescape_astral(text.strip()[1:-1])


def block_lines(entry: Any) -> list[str]:
    """An item's entry as export writes it as an item of a block list, one line each: the
    first starts with `- `, the others are indented under it."""
    if not isinstance(entry, dict):
        return [f"- {flow_text(entry)}"]
    text = yaml.dump(
        entry,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=None,
        width=_NO_WRAPPING,
    )
    first, *rest = _unescape_astral(text).splitlines()
    return [f"- {first}", *(f"  {line}" for line in rest)]
