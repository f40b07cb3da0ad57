"""Environments: a base configuration and, per environment, an overlay read on top of it.

    crm/
      base/*.yaml          what every environment has
      envs/prod/*.yaml     what prod adds, changes or drops
      envs/test/*.yaml

An overlay file is a configuration file (`crmconf: 1`, the same sections) with these rules:

- an item whose name (a stage: title) the base defines changes the fields the overlay
  writes and keeps the others; a group is found anywhere in the tree and stays there;
- any other item is added, so it must be complete;
- an ordered list (stages, option lists) or a switch that the overlay writes replaces
  the base's whole: its order must be stated in one place;
- `drop:` names, per section, items of the base this environment does not have (a
  group with its subgroups); dropping and writing an item replaces it whole;
- `safety:` and `prune:` change the keys they write; `removed:` entries merge like items.

Overlays work on plain values before validation, and each value keeps the place it
was written, so an error points at the base or overlay file that wrote the value.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path as FilePath
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from crmconf.config.files import (
    BASE,
    YAML_SUFFIXES,
    configuration_files,
    confined,
    is_layout,
)
from crmconf.config.loader import build_configuration, read_sources
from crmconf.config.yaml_source import SourceDocument
from crmconf.errors import ConfigError, Location, Problem
from crmconf.kinds import ALL_KINDS, generation
from crmconf.model.configuration import Configuration
from crmconf.model.kind import Kind, Path
from crmconf.model.names import Name, identity

ENVIRONMENTS = "envs"
DROP = "drop"
PROJECT_FILES = ("crmconf.yaml", "crmconf.yml")
"""The tenants' project file may sit beside base/ and envs/."""

_LAYOUT_HINT = "a directory with environments holds base/*.yaml and envs/NAME/*.yaml"


def environment_names(root: FilePath) -> list[str]:
    """The environments of a layout: the directories under envs/, in name order."""
    folder = root / ENVIRONMENTS
    if not folder.is_dir():
        return []
    return sorted(child.name for child in folder.iterdir() if child.is_dir() and _visible(child))


def require_environment(root: FilePath, environment: str | None) -> None:
    """A layout with environments must be told which one: its base alone lacks what each adds."""
    names = environment_names(root) if environment is None and is_layout(root) else []
    if names:
        raise ConfigError(
            [
                Problem(
                    f"{root} has environments ({', '.join(names)}): choose one",
                    Location(str(root), 1, 1),
                    f"pass --env NAME (in crmconf.yaml: env: NAME); for the base alone, "
                    f"point at {root / BASE}",
                )
            ]
        )


def load_environment(
    root: FilePath, environment: str | None, variables: Mapping[str, str]
) -> Configuration:
    """The base of a layout with one environment's overlay on top (None: the base alone)."""
    if not is_layout(root):
        raise ConfigError(
            [
                Problem(
                    f"environment {environment!r} asked for, but {root} has no {BASE}/ directory",
                    Location(str(root), 1, 1),
                    _LAYOUT_HINT,
                )
            ]
        )
    problems = _stray_files(root)
    base_files = configuration_files(root / BASE)
    overlay_files = [] if environment is None else _overlay_files(root, environment)
    files = confined([*base_files, *overlay_files], root)
    digest, sources = read_sources(files, variables)
    for source in sources:
        if isinstance(source, ConfigError):
            problems.extend(source.problems)
    if problems:
        raise ConfigError(problems)
    documents = [source for source in sources if isinstance(source, SourceDocument)]
    overlaid = overlay(documents[: len(base_files)], documents[len(base_files) :])
    try:
        return build_configuration(overlaid, files, digest)
    except ConfigError as error:
        overlays = {str(file) for file in overlay_files}
        problems = [_with_overlay_hint(problem, overlays) for problem in error.problems]
        raise ConfigError(problems) from None


def _with_overlay_hint(problem: Problem, overlays: set[str]) -> Problem:
    """A key missing from an overlay item means the base has no item of that name."""
    if (
        problem.hint is None
        and problem.location is not None
        and problem.location.file in overlays
        and problem.message.endswith("is missing")
    ):
        hint = (
            "the base has no item of this name, so the overlay adds it and it must be "
            "complete; to change a base item, write its name as the base does"
        )
        return Problem(problem.message, problem.location, hint)
    return problem


def overlay(base: list[SourceDocument], overlays: list[SourceDocument]) -> list[SourceDocument]:
    """The base documents with the overlays applied, then what the overlays add."""
    trees = [(source.file, _tree(source)) for source in base]
    merger = _Merger([tree for _file, tree in trees])
    for _file, tree in trees:
        drop = tree.value.get(DROP) if isinstance(tree.value, dict) else None
        if drop is not None:
            merger.problems.append(
                Problem(
                    "drop: belongs in an overlay (envs/NAME/), not in the base",
                    drop.key_location,
                    "the base states what every environment has: remove the items from it",
                )
            )
    added = []
    for source in overlays:
        tree = _tree(source)
        merger.apply(tree)
        added.append((source.file, tree))
    if merger.problems:
        raise ConfigError(merger.problems)
    return [_document(file, tree) for file, tree in (*trees, *added)]


def drop_model() -> type[BaseModel]:
    """The `drop:` section of an overlay: the sections' nesting, lists of names."""
    return _drop_model(generation())


@cache
def _drop_model(_generation: int) -> type[BaseModel]:
    top: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {}
    for kind in ALL_KINDS:
        if kind.is_switch:
            continue
        entry = (tuple[Name, ...], ())
        head, *rest = kind.section
        if rest:
            nested.setdefault(head, {})[rest[0]] = entry
        else:
            top[head] = entry
    config = ConfigDict(frozen=True, extra="forbid")
    for head, fields in nested.items():
        title = "Drop" + "".join(part.capitalize() for part in head.split("_"))
        top[head] = (create_model(title, __config__=config, **fields), None)
    model: type[BaseModel] = create_model(
        "Drop",
        __config__=config,
        __doc__="Items of the base that this environment does not have, by name (stages: "
        "title). A group is dropped with its subgroups.",
        **top,
    )
    return model


def overlay_json_schema() -> dict[str, Any]:
    """JSON Schema of an overlay file: a configuration file plus `drop:`, where an item of an
    unordered kind needs only its name, since it may change some fields of a base item.
    (An ordered list is replaced whole, so its items stay complete.)"""
    from crmconf.config.schema import json_schema

    schema = json_schema()
    schema["$id"] = schema["$id"].replace("crmconf.schema.json", "crmconf-overlay.schema.json")
    schema["title"] = "CrmconfOverlay"
    schema["description"] = (
        "A crmconf overlay file (envs/NAME/*.yaml): changes, adds and drops items of the base."
    )
    drop = drop_model().model_json_schema(ref_template="#/$defs/{model}")
    definitions = schema.setdefault("$defs", {})
    definitions.update(drop.pop("$defs", {}))
    definitions["Drop"] = drop
    schema["properties"][DROP] = {"$ref": "#/$defs/Drop"}
    for kind in ALL_KINDS:
        if kind.item_model is None or kind.ordered:
            continue
        definition = definitions[kind.item_model.__name__]
        if "required" in definition:
            definition["required"] = [kind.key_field]
    return schema


def overlay_schema_text() -> str:
    return json.dumps(overlay_json_schema(), ensure_ascii=False, indent=2) + "\n"


# Plain values as a tree of located nodes, so overlays can move values between files.


@dataclass
class _Node:
    value: Any
    """dict[str, _Node], list[_Node], or a scalar."""
    location: Location | None
    key_location: Location | None = None
    written: str | None = None


def _tree(source: SourceDocument) -> _Node:
    def build(value: Any, path: Path) -> _Node:
        inner: Any = value
        if isinstance(value, dict):
            inner = {key: build(item, (*path, key)) for key, item in value.items()}
        elif isinstance(value, list):
            inner = [build(item, (*path, index)) for index, item in enumerate(value)]
        return _Node(
            inner,
            source.locations.get(path),
            source.key_locations.get(path),
            source.written.get(path),
        )

    return build(source.value, ())


def _document(file: str, root: _Node) -> SourceDocument:
    locations: dict[Path, Location] = {}
    key_locations: dict[Path, Location] = {}
    written: dict[Path, str] = {}

    def plain(node: _Node, path: Path) -> Any:
        if node.location is not None:
            locations[path] = node.location
        if node.key_location is not None:
            key_locations[path] = node.key_location
        if node.written is not None:
            written[path] = node.written
        if isinstance(node.value, dict):
            return {key: plain(item, (*path, key)) for key, item in node.value.items()}
        if isinstance(node.value, list):
            return [plain(item, (*path, index)) for index, item in enumerate(node.value)]
        return node.value

    value = plain(root, ())
    return SourceDocument(file, value, locations, key_locations, written)


def _at(root: _Node, path: tuple[str, ...]) -> _Node | None:
    node: _Node | None = root
    for part in path:
        if node is None or not isinstance(node.value, dict):
            return None
        node = node.value.get(part)
    return node


class _Merger:
    """Applies overlay trees to the base trees, collecting every problem."""

    def __init__(self, bases: list[_Node]) -> None:
        self.bases = bases
        self.problems: list[Problem] = []
        self.claimed: dict[tuple[tuple[str, ...], str], Location | None] = {}
        """Base items changed or dropped so far, and where: one overlay file each."""

    def apply(self, overlay: _Node) -> None:
        if not isinstance(overlay.value, dict):
            return  # validation says what a file must be
        drop = overlay.value.pop(DROP, None)
        if drop is not None:
            self._drop(drop)
        for kind in ALL_KINDS:
            self._section(overlay, kind.section, kind, tree=kind.tree)
            if not kind.is_switch:
                self._section(overlay, ("removed", *kind.section), kind, tree=False)
        for name in ("safety", "prune"):
            self._mapping(overlay, name)

    def _section(self, overlay: _Node, path: tuple[str, ...], kind: Kind, tree: bool) -> None:
        node = _at(overlay, path)
        if node is None:
            return
        if kind.is_switch or (kind.ordered and path[0] != "removed"):
            for base in self.bases:  # replaced whole
                parent = _at(base, path[:-1])
                if parent is not None and isinstance(parent.value, dict):
                    parent.value.pop(path[-1], None)
            return
        if isinstance(node.value, list):
            node.value = [item for item in node.value if not self._merged(item, path, kind, tree)]

    def _merged(self, item: _Node, path: tuple[str, ...], kind: Kind, tree: bool) -> bool:
        """Whether an overlay item changed a base item (else it is new)."""
        key = _identity(item, kind.key_field)
        if key is None:
            return False
        found = [
            base
            for base, _list in self._items(path, tree)
            if _identity(base, kind.key_field) == key
        ]
        if not found:
            return False
        if self._claim(path, key, _name(item, kind.key_field), item.location, kind):
            self._patch(found[0], item, path, kind, tree)
        return True

    def _patch(
        self, base: _Node, item: _Node, path: tuple[str, ...], kind: Kind, tree: bool
    ) -> None:
        fields = item.value if isinstance(item.value, dict) else {kind.key_field: item}
        if not isinstance(base.value, dict):  # a bare name: its short form
            base.value = {kind.key_field: _Node(base.value, base.location, None, base.written)}
            base.written = None
        for key, value in fields.items():
            children = base.value.get(key)
            if tree and key == "children" and isinstance(value.value, list):
                if children is None or not isinstance(children.value, list):
                    children = base.value[key] = _Node([], value.location, value.key_location)
                for child in value.value:
                    if not self._merged(child, path, kind, tree):
                        children.value.append(child)
            else:
                base.value[key] = value
        base.location = item.location  # the overlay is what made this item differ

    def _drop(self, drop: _Node) -> None:
        model = drop_model()
        try:
            model.model_validate(_document("", drop).value)
        except ValidationError as error:
            for detail in error.errors(include_url=False):
                self.problems.append(_drop_problem(drop, detail))
            return
        for kind in ALL_KINDS:
            names = _at(drop, kind.section)
            if kind.is_switch or names is None or not isinstance(names.value, list):
                continue
            for name in names.value:
                key = identity(name.value)
                if not self._claim(kind.section, key, name.value, name.location, kind):
                    continue
                found = [
                    (parent, item)
                    for item, parent in self._items(kind.section, kind.tree)
                    if _identity(item, kind.key_field) == key
                ]
                if not found:
                    self.problems.append(
                        Problem(
                            f"drop: {kind.singular} {name.value!r} is not in the base {kind.name}",
                            name.location,
                            "drop names items the base defines; check the spelling",
                        )
                    )
                for parent, item in found:
                    parent.value.remove(item)

    def _claim(
        self, path: tuple[str, ...], key: str, name: str, where: Location | None, kind: Kind
    ) -> bool:
        """Each base item is changed or dropped by one overlay file: one place to look."""
        if (path, key) in self.claimed:
            self.problems.append(
                Problem(
                    f"{'removed ' if path[0] == 'removed' else ''}{kind.singular} {name!r} is "
                    f"changed twice in this environment; also at {self.claimed[(path, key)]}",
                    where,
                    "change (or drop) an item in one place",
                )
            )
            return False
        self.claimed[(path, key)] = where
        return True

    def _mapping(self, overlay: _Node, name: str) -> None:
        node = _at(overlay, (name,))
        if node is None or not isinstance(node.value, dict):
            return
        for base in self.bases:
            target = _at(base, (name,))
            if target is not None and isinstance(target.value, dict):
                target.value.update(node.value)
                assert isinstance(overlay.value, dict)
                del overlay.value[name]
                return

    def _items(self, path: tuple[str, ...], tree: bool) -> Iterator[tuple[_Node, _Node]]:
        """Every base item of a section with the list holding it; a tree's at every depth."""

        def walk(items: _Node) -> Iterator[tuple[_Node, _Node]]:
            for item in list(items.value):
                yield item, items
                children = _at(item, ("children",)) if tree else None
                if children is not None and isinstance(children.value, list):
                    yield from walk(children)

        for base in self.bases:
            section = _at(base, path)
            if section is not None and isinstance(section.value, list):
                yield from walk(section)


def _name(item: _Node, key_field: str) -> Any:
    """An item's name as written: a bare name, or its key field's value."""
    if isinstance(item.value, dict):
        field = item.value.get(key_field)
        return field.value if field is not None else None
    return item.value


def _identity(item: _Node, key_field: str) -> str | None:
    name = _name(item, key_field)
    return identity(name) if isinstance(name, str) else None


def _drop_problem(drop: _Node, detail: Any) -> Problem:
    path: tuple[str | int, ...] = tuple(detail["loc"])
    node, where = drop, drop.location
    for part in path:
        inner = node.value
        in_list = isinstance(part, int) and isinstance(inner, list) and part < len(inner)
        if not (in_list or (isinstance(inner, dict) and part in inner)):
            break
        node = inner[part]
        where = node.key_location if detail["type"] == "extra_forbidden" else node.location
    dotted = ".".join(str(part) for part in (DROP, *path))
    if detail["type"] == "extra_forbidden":
        allowed = [kind.name for kind in ALL_KINDS if not kind.is_switch]
        return Problem(
            f"unknown section {path[-1]!r} in {dotted.rsplit('.', 1)[0]}",
            where,
            f"drop lists items of: {', '.join(allowed)}",
        )
    return Problem(f"{dotted}: {detail['msg']}", where or drop.location)


def _visible(path: FilePath) -> bool:
    return not path.name.startswith(".")


def _stray_files(root: FilePath) -> list[Problem]:
    """YAML files a layout would not read: say so rather than ignore them."""
    problems = []
    for folder, where in ((root, f"{BASE}/"), (root / ENVIRONMENTS, f"{ENVIRONMENTS}/NAME/")):
        if not folder.is_dir():
            continue
        for child in sorted(folder.iterdir()):
            if (
                child.suffix in YAML_SUFFIXES
                and _visible(child)
                and child.is_file()
                and not (folder == root and child.name in PROJECT_FILES)
            ):
                problems.append(
                    Problem(
                        f"not read: {root} has a {BASE}/ directory, so configuration files "
                        f"live in {BASE}/ and {ENVIRONMENTS}/NAME/",
                        Location(str(child), 1, 1),
                        f"move it into {where}",
                    )
                )
    return problems


def _overlay_files(root: FilePath, environment: str) -> list[FilePath]:
    names = environment_names(root)
    if environment not in names:
        known = ", ".join(names) if names else f"none yet: create {ENVIRONMENTS}/{environment}/"
        raise ConfigError(
            [
                Problem(
                    f"no environment {environment!r} in {root / ENVIRONMENTS}",
                    Location(str(root), 1, 1),
                    f"environments: {known}",
                )
            ]
        )
    folder = root / ENVIRONMENTS / environment
    return sorted(
        child
        for child in folder.iterdir()
        if child.suffix in YAML_SUFFIXES and _visible(child) and child.is_file()
    )
