"""The configuration document model, assembled from the kinds registry.

Sections nest by the dots in kind names (``sales.stages`` lives under ``sales``),
so a new kind appears in the document, the schema and the editor completion
without editing this module.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, WithJsonSchema, create_model

from crmconf.config.firm_rules import RulesSection
from crmconf.kinds import ALL_KINDS, generation
from crmconf.model.kind import Kind
from crmconf.model.names import whole_number

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
        return _optional(StrictBool, description)
    return _optional(tuple[kind.item_model, ...], description)  # type: ignore[name-defined]


def _model(name: str, fields: dict[str, tuple[Any, Any]], doc: str | None) -> type[BaseModel]:
    # Validators are built on first use, and a section's as part of the whole document's.
    config = ConfigDict(frozen=True, extra="forbid", title=name, defer_build=True)
    model: type[BaseModel] = create_model(name, __config__=config, __doc__=doc, **fields)  # type: ignore[call-overload]
    return model


class Safety(BaseModel):
    """Limits of the mass-change guard: beyond them a plan needs --allow-mass-change."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    max_change_fraction: (
        Annotated[float, Field(ge=0, le=1, strict=True, allow_inf_nan=False)] | None
    ) = None
    """Share of a kind's items (kinds of 10 or more) one plan may update or delete."""
    max_deletes: whole_number(0) | None = None  # type: ignore[valid-type]
    """Deletes of one kind one plan may make."""
    max_forecast_change_percent: (
        Annotated[float, Field(ge=0, strict=True, allow_inf_nan=False)] | None
    ) = None
    """How far, in % of its value before, one plan may move the weighted forecast (in total
    and of any sales group) without --allow-forecast-change."""
    max_forecast_change_amount: (
        Annotated[float, Field(ge=0, strict=True, allow_inf_nan=False)] | None
    ) = None
    """How far, as an amount, one plan may move the weighted forecast (in total and of any
    sales group) without --allow-forecast-change."""


def _removed_model() -> type[BaseModel]:
    """The `removed:` section: the same nesting as the main sections, list kinds only."""
    top: dict[str, Any] = {}
    nested: dict[str, dict[str, tuple[Any, Any]]] = {}
    for kind in ALL_KINDS:
        if kind.is_switch:
            continue
        entry = _optional(tuple[kind.removal_model, ...], None)  # type: ignore[name-defined]
        head, *rest = kind.section
        if rest:
            nested.setdefault(head, {})[rest[0]] = entry
        else:
            top[head] = entry
    for head, fields in nested.items():
        title = "Removed" + "".join(part.capitalize() for part in head.split("_"))
        top[head] = _optional(_model(title, fields, None), None)
    return _model("Removed", top, "Items removed on purpose.")


def document_model() -> type[BaseModel]:
    """The pydantic model of one configuration file, for the kinds registered now."""
    return _document_model(generation())


@cache
def _document_model(_generation: int) -> type[BaseModel]:
    top: dict[str, Any] = {}
    nested: dict[str, dict[str, tuple[Any, Any]]] = {}
    for kind in ALL_KINDS:
        head, *rest = kind.section
        if rest:
            nested.setdefault(head, {})[rest[0]] = _field_for(kind)
        else:
            top[head] = _field_for(kind)
    top["safety"] = _optional(Safety, Safety.__doc__)
    top["rules"] = _optional(RulesSection, RulesSection.__doc__)
    kind_names = tuple(kind.name for kind in ALL_KINDS if not kind.is_switch)
    top["prune"] = _optional(
        dict[Literal[kind_names], StrictBool],  # type: ignore[valid-type]
        "Per kind: false leaves items that are in the CRM but not in the section alone "
        "(listed in the plan as unmanaged); deletes then happen only under `removed:`.",
    )
    top["removed"] = _optional(
        _removed_model(),
        "Items to delete on purpose, and where the customer data using them goes.",
    )
    for head, fields in nested.items():
        title = "".join(part.capitalize() for part in head.split("_"))
        section = _model(title, fields, _SECTION_DOCS.get(head))
        top[head] = _optional(section, _SECTION_DOCS.get(head))
    fields = {
        "crmconf": (
            Annotated[
                whole_number(FORMAT_VERSION, FORMAT_VERSION),
                WithJsonSchema({"const": FORMAT_VERSION, "type": "integer"}),
            ],
            Field(description="Format version of this file; required."),
        ),
        **top,
    }
    return _model("CrmconfConfiguration", fields, "A crmconf configuration file.")
