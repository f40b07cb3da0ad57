"""Write a target's settings in the configuration format, so that planning it is empty."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import yaml

from crmconf.config.document import FORMAT_VERSION
from crmconf.config.yaml_source import needs_quotes
from crmconf.kinds import ALL_KINDS
from crmconf.model.kind import Kind
from crmconf.model.state import ExistingItem, State, refuse_duplicates


class _Dumper(yaml.SafeDumper):
    """Quotes every string a YAML 1.1 or 1.2 reader could take for something else."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    value = value.replace("${", "$${")  # loading substitutes variables: `$${` reads as `${`
    style = '"' if needs_quotes(value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def item_entry(kind: Kind, item: ExistingItem) -> Any:
    """One existing item as the configuration writes it (short form where possible)."""
    fields = {k: v for k, v in item.fields.items() if k != "parent"}
    if not fields and kind.item_model is not None and kind.item_model.SHORT_FORM:
        return item.name
    entry: dict[str, Any] = {kind.key_field: item.name}
    for field, value in fields.items():
        if value in ("", [], None):
            continue  # absent means empty: keep the export short
        entry[field] = value
    return entry


def _tree(kind: Kind, items: tuple[ExistingItem, ...]) -> list[Any]:
    children: dict[str | None, list[ExistingItem]] = defaultdict(list)
    names = {item.name for item in items}
    for item in items:
        parent = item.fields.get("parent")
        children[parent if parent in names else None].append(item)

    def build(parent: str | None) -> list[Any]:
        built = []
        for item in children.get(parent, []):
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
            value = [item_entry(kind, item) for item in items]
        node = document
        for part in kind.section[:-1]:
            node = node.setdefault(part, {})
        node[kind.section[-1]] = value
    return document


def export_text(state: State, source: str) -> str:
    header = (
        "# yaml-language-server: $schema=https://crmconf.dev/schemas/crmconf.schema.json\n"
        f"# Exported by crmconf from {source}.\n"
    )
    body = yaml.dump(
        export_document(state),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=None,
        width=100,
    )
    return header + body


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
