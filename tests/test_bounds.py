"""Validation and storage agree on every bound, on both backends.

For every text and number field of every kind, the largest (and smallest) values the
document model accepts are read off its JSON Schema, written into a configuration and
applied to a real sandbox: what plan accepts, apply stores, and planning again is empty.
A number field without bounds fails here: it would pass plan and fail apply.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from crmconf.api import apply, load, plan
from crmconf.kinds import ALL_KINDS, STAGES
from crmconf.model.kind import Kind
from crmconf.targets.sandbox import schema
from crmconf.targets.sandbox.admin import init_sandbox
from crmconf.targets.sandbox.target import SandboxTarget

UNBOUNDED_TEXT = 100_000
"""Characters written into a text field the schema sets no length for."""
SKIPPED = {"children", "protect"}
"""A group's children are groups (their fields are these same ones); protect is a switch."""

_LIST_KINDS = [kind for kind in ALL_KINDS if kind.item_model is not None]


def _resolved(node: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = definitions[node["$ref"].rsplit("/", 1)[-1]]
    return node


# Per field, characters of one, two and four bytes (outside the BMP): fields of one item
# hold different texts, so that a name and a former name (renamed_from) never collide.
_CHARACTERS = [
    ("x", "ö", "😀"),
    ("y", "ä", "🙂"),
    ("z", "å", "🎉"),
    ("w", "é", "🚀"),
    ("v", "ø", "🌍"),
]


def _extremes(
    node: dict[str, Any], definitions: dict[str, Any], where: str, characters: tuple[str, ...]
) -> Iterator[Any]:
    """The values at the edges of what a JSON Schema node allows."""
    node = _resolved(node, definitions)
    if "anyOf" in node:
        for branch in node["anyOf"]:
            yield from _extremes(branch, definitions, where, characters)
        return
    if "enum" in node:
        yield from node["enum"]
        return
    kind = node.get("type")
    if kind == "string":
        length = node.get("maxLength", UNBOUNDED_TEXT)
        for character in characters:
            yield character * length
        return
    if kind == "integer":
        assert "maximum" in node and "minimum" in node, f"{where}: an integer without bounds"
        yield node["minimum"]
        yield node["maximum"]
        return
    if kind == "array":
        for value in _extremes(node["items"], definitions, where, characters):
            yield [value]
        return
    if kind in ("boolean", "null"):
        return
    pytest.fail(f"{where}: no extremes known for {node}")


def _item_schema(kind: Kind) -> tuple[dict[str, Any], dict[str, Any]]:
    assert kind.item_model is not None
    document = TypeAdapter(kind.item_model).json_schema()
    definitions = document.get("$defs", {})
    node = _resolved(document, definitions)
    for branch in node.get("anyOf", [node]):  # past a short form's bare name
        branch = _resolved(branch, definitions)
        if branch.get("type") == "object":
            return branch, definitions
    raise AssertionError(f"{kind.name}: no item object in {document}")


def _valid(kind: Kind, item: dict[str, Any]) -> bool:
    assert kind.item_model is not None
    try:
        kind.item_model.model_validate(item)
    except ValidationError:
        return False
    return True


def _base_item(kind: Kind, number: int) -> dict[str, Any]:
    item: dict[str, Any] = {kind.key_field: f"Post {number}"}
    if kind.name == "categories":
        item["show_on"] = "both"
    if kind.name == "groups":
        item["type"] = "standard"
    if kind is STAGES:
        item.update(probability=50, status="open")
    return item


def _items(kind: Kind) -> list[dict[str, Any]]:
    """One item per edge value of each field; each field reached at least once."""
    properties, definitions = _item_schema(kind)
    items: list[dict[str, Any]] = []
    for number, (field, node) in enumerate(properties["properties"].items()):
        if field in SKIPPED:
            continue
        values = [
            value
            for value in _extremes(
                node, definitions, f"{kind.name}.{field}", _CHARACTERS[number % len(_CHARACTERS)]
            )
            if _valid(kind, {**_base_item(kind, 0), field: value})
        ]
        assert values, f"{kind.name}.{field}: no edge value is valid"
        for value in values:
            items.append({**_base_item(kind, len(items)), field: value})
    return items


def _document(kind: Kind, items: list[dict[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {"crmconf": 1}
    node = document
    for part in kind.section[:-1]:
        node = node.setdefault(part, {})
    node[kind.section[-1]] = items
    if kind is STAGES:  # each stage's rejection reason must exist
        reasons = sorted(
            {item["rejection_reason"] for item in items if item.get("rejection_reason")}
        )
        document["sales"]["rejection_reasons"] = reasons
    return document


def _add_users(url: str, items: list[dict[str, Any]]) -> None:
    logins = sorted({str(login) for item in items for login in item.get("members", ())})
    with SandboxTarget.open(url) as target, target.engine.begin() as connection:
        for login in logins:
            connection.execute(schema.users.insert().values(login=login, name="Användare"))


@pytest.mark.parametrize("kind", _LIST_KINDS, ids=[kind.name for kind in _LIST_KINDS])
def test_the_largest_valid_values_apply(kind: Kind, sandbox_url: str, tmp_path: Path) -> None:
    init_sandbox(sandbox_url)
    items = _items(kind)
    _add_users(sandbox_url, items)
    path = tmp_path / "edges.yaml"
    path.write_text(json.dumps(_document(kind, items), ensure_ascii=False), encoding="utf-8")
    config = load(path)

    with SandboxTarget.open(sandbox_url) as target:
        apply(plan(config, target), target)
        assert plan(config, target).changes == (), "what was applied does not read back"
