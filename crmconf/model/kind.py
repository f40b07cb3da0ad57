"""How a settings kind is declared once and then read by every layer.

A `Kind` tells the loader where its section lives, the schema which pydantic model
validates an item, the planner how items are identified, ordered and nested and
which other kinds they reference, and the providers how to name it to a person.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    GetJsonSchemaHandler,
    TypeAdapter,
    create_model,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from crmconf.errors import Location, Problem
from crmconf.model.names import Name, identity

Path = tuple[str | int, ...]
"""A place in a configuration document: mapping keys and list indexes."""


class NamedItem(BaseModel):
    """An item of a list kind: identified by its name (or title), renamable in place."""

    # Items are validated inside the document model, which builds their validators
    # itself: building each kind's own at import time only slowed start-up.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    KEY_FIELD: ClassVar[str] = "name"
    SHORT_FORM: ClassVar[bool] = True
    """Whether a bare name may stand for the item: only when nothing else is required."""

    renamed_from: tuple[Name, ...] = ()
    protect: bool = False
    """Refuse every plan that deletes this item, even after it leaves the configuration:
    the protection is stored in the target and lifted only by applying `protect: false`."""

    @model_validator(mode="before")
    @classmethod
    def _expand_short_form(cls, data: Any) -> Any:
        return {cls.KEY_FIELD: data} if isinstance(data, str) else data

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        if not cls.SHORT_FORM:
            return schema
        return {"anyOf": [TypeAdapter(Name).json_schema(), schema]}

    @property
    def item_name(self) -> str:
        value: str = getattr(self, self.KEY_FIELD)
        return value

    def record_fields(self) -> dict[str, Any]:
        """The fields the planner compares, apart from the name; plain JSON values."""
        return {}


@dataclass(frozen=True)
class Record:
    """One desired item, flattened: what the planner compares with the target."""

    name: str
    fields: Mapping[str, Any]
    renamed_from: tuple[str, ...] = ()
    location: Location | None = field(default=None, compare=False)
    protect: bool = False

    @property
    def key(self) -> str:
        return identity(self.name)


@dataclass(frozen=True)
class Reference:
    """A field of one kind's items naming an item of another (or the same) kind."""

    field: str
    kind: str


@dataclass(frozen=True)
class Migration:
    """How the data using a removed item is carried over, declared under `removed:`."""

    move_field: str
    """The key naming the destination, e.g. ``move_customers_to``."""
    clear_field: str | None = None
    """The key that detaches the data instead, e.g. ``unassign``; None where data must
    always point somewhere (an opportunity always has a stage)."""


class Removal(BaseModel):
    """An entry under `removed:`: an item to delete on purpose, and where its data goes."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)  # as NamedItem

    KEY_FIELD: ClassVar[str] = "name"

    @model_validator(mode="before")
    @classmethod
    def _expand_short_form(cls, data: Any) -> Any:
        return {cls.KEY_FIELD: data} if isinstance(data, str) else data

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"anyOf": [TypeAdapter(Name).json_schema(), handler(core_schema)]}


@dataclass(frozen=True, eq=False)
class Kind:
    """The one declaration of a settings kind."""

    name: str
    """Dotted path of the section in the configuration, e.g. ``sales.stages``."""
    singular: str
    """What one item is called in messages, e.g. ``stage``."""
    ui_path: str
    """Where a person changes it by hand in the CRM."""
    item_model: type[NamedItem] | None = None
    """Model of one item; None for a switch (a single yes/no setting)."""
    ordered: bool = False
    """Whether list order has meaning (the pipeline order of stages, option lists)."""
    tree: bool = False
    """Whether items nest under ``children``; flattened with a ``parent`` reference."""
    references: tuple[Reference, ...] = ()
    lint: Callable[[tuple[Record, ...]], list[Problem]] | None = None
    """Warnings about valid but doubtful settings (errors with --strict)."""
    migration: Migration | None = None
    """How customer data using a removed item moves; None when no data uses the kind."""
    labels: Mapping[str, str] = field(default_factory=lambda: {"name": "Namn"})
    """The CRM's own label of each field, for manual steps."""
    value_labels: Mapping[str, Mapping[Any, str]] = field(default_factory=dict)
    """The CRM's own wording of field values (e.g. stage status), for manual steps."""
    units: Mapping[str, str] = field(default_factory=dict)
    """The unit a field's value is shown with to a person, e.g. ``{"probability": "%"}``."""
    users_field: str | None = None
    """The field naming users of the CRM (a group's members): each must be a user of the
    target, and targets that keep their own tables store it as links to their users."""
    enable_note: str | None = None
    """For a switch: what a person must know before turning it on by hand."""
    storage_name: str | None = None
    """What targets keeping their own tables (the sandbox) store the items under; default:
    the section's last part. Kinds sharing a name share one table, told apart by section."""

    @property
    def table_name(self) -> str:
        return self.storage_name or self.section[-1]

    @property
    def section(self) -> tuple[str, ...]:
        return tuple(self.name.split("."))

    @property
    def plural(self) -> str:
        if self.singular.endswith("y"):
            return self.singular[:-1] + "ies"
        return self.singular + ("es" if self.singular.endswith("ch") else "s")

    @property
    def is_switch(self) -> bool:
        return self.item_model is None

    @property
    def key_field(self) -> str:
        return self.item_model.KEY_FIELD if self.item_model else "name"

    @functools.cached_property
    def removal_model(self) -> type[Removal]:
        """The model of this kind's entries under `removed:`."""
        fields: dict[str, Any] = {self.key_field: (Name, ...)}
        if self.migration is not None:
            fields[self.migration.move_field] = (Name | None, None)
            if self.migration.clear_field:
                fields[self.migration.clear_field] = (bool, False)
        title = "Removed" + "".join(p.capitalize() for p in self.name.replace(".", "_").split("_"))
        model: type[Removal] = create_model(
            title,
            __base__=Removal,
            __doc__=f"A {self.singular} to delete, and where the data using it goes.",
            **fields,
        )
        model.KEY_FIELD = self.key_field
        return model

    def removal_record(self, entry: Removal) -> Record:
        """A `removed:` entry as a record: fields ``move_to`` and ``clear``."""
        move_to = clear = None
        if self.migration is not None:
            move_to = getattr(entry, self.migration.move_field)
            if self.migration.clear_field:
                clear = getattr(entry, self.migration.clear_field)
        return Record(
            name=getattr(entry, self.key_field), fields={"move_to": move_to, "clear": bool(clear)}
        )

    def flatten(
        self, value: Any, locate: Callable[[Path], Location] | None = None
    ) -> Iterator[tuple[Record, Path]]:
        """Records of a validated section value, each with its path inside the section
        (and, given `locate`, with the location it gives for that path)."""
        if self.is_switch:
            where = locate(()) if locate else None
            yield Record(name=self.section[-1], fields={"enabled": value}, location=where), ()
            return
        yield from self._flatten_items(value, (), None, locate)

    def _flatten_items(
        self,
        items: tuple[NamedItem, ...],
        prefix: Path,
        parent: str | None,
        locate: Callable[[Path], Location] | None,
    ) -> Iterator[tuple[Record, Path]]:
        for index, item in enumerate(items):
            fields = item.record_fields()
            if self.tree:
                fields["parent"] = parent
            path = (*prefix, index)
            record = Record(
                name=item.item_name,
                fields=fields,
                renamed_from=item.renamed_from,
                location=locate(path) if locate else None,
                protect=item.protect,
            )
            yield record, path
            if self.tree:
                children: tuple[NamedItem, ...] = getattr(item, "children", ())
                yield from self._flatten_items(
                    children, (*path, "children"), item.item_name, locate
                )


def section_value(document: BaseModel, kind: Kind) -> tuple[bool, Any]:
    """Whether the kind's section is written in a validated document, and its value.

    Presence, not the value, decides whether crmconf manages a kind: an absent
    section is left alone, an empty list means "none".
    """
    node: Any = document
    for part in kind.section:
        if not isinstance(node, BaseModel) or part not in node.model_fields_set:
            return False, None
        node = getattr(node, part)
    return True, node
