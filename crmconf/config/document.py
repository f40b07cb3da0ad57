"""The configuration document model, assembled from the kinds registry.

Sections nest by the dots in kind names (``sales.stages`` lives under ``sales``),
so a new kind appears in the document, the schema and the editor completion
without editing this module.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, create_model

from crmconf.kinds import ALL_KINDS
from crmconf.model.kind import Kind
from crmconf.model.names import WholeNumber

FORMAT_VERSION = 1

_SECTION_DOCS = {
    "customer_info": "Additional customer information (Tilläggsinformation på kund).",
    "sales": "Sales-opportunity settings (Säljmöjligheter).",
    "features": "Feature switches.",
}


def _no_default(schema: dict[str, Any]) -> None:
    # An absent section is not managed: it has no default value to advertise.
    schema.pop("default", None)


def _optional(annotation: Any, description: str | None) -> tuple[Any, Any]:
    return annotation, Field(default=None, description=description, json_schema_extra=_no_default)


def _field_for(kind: Kind) -> tuple[Any, Any]:
    description = f"{kind.ui_path}. Absent: not managed."
    if kind.item_model is None:
        return _optional(bool, description)
    return _optional(tuple[kind.item_model, ...], description)  # type: ignore[name-defined]


def _model(name: str, fields: dict[str, tuple[Any, Any]], doc: str | None) -> type[BaseModel]:
    config = ConfigDict(frozen=True, extra="forbid", title=name)
    model: type[BaseModel] = create_model(name, __config__=config, __doc__=doc, **fields)  # type: ignore[call-overload]
    return model


@cache
def document_model() -> type[BaseModel]:
    """The pydantic model of one configuration file."""
    top: dict[str, Any] = {}
    nested: dict[str, dict[str, tuple[Any, Any]]] = {}
    for kind in ALL_KINDS:
        head, *rest = kind.section
        if rest:
            nested.setdefault(head, {})[rest[0]] = _field_for(kind)
        else:
            top[head] = _field_for(kind)
    for head, fields in nested.items():
        title = "".join(part.capitalize() for part in head.split("_"))
        section = _model(title, fields, _SECTION_DOCS.get(head))
        top[head] = _optional(section, _SECTION_DOCS.get(head))
    fields = {
        "crmconf": (
            Annotated[
                WholeNumber,
                Field(ge=FORMAT_VERSION, le=FORMAT_VERSION),
                WithJsonSchema({"const": FORMAT_VERSION, "type": "integer"}),
            ],
            Field(description="Format version of this file; required."),
        ),
        **top,
    }
    return _model("CrmconfConfiguration", fields, "A crmconf configuration file.")
