"""Groups (Grupper): a tree of user groups, Standard or Sales, with members."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import (
    BeforeValidator,
    PlainValidator,
    Strict,
    StringConstraints,
    WithJsonSchema,
)

from crmconf.model.kind import Kind, NamedItem, Reference
from crmconf.model.names import Name

_TYPE_LABELS = {"Standard": "standard", "Försäljning": "sales"}


def _from_label(value: Any) -> Any:
    return _TYPE_LABELS.get(value, value) if isinstance(value, str) else value


def _number_as_text(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _group_type(value: Any) -> str | int:
    value = _from_label(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if value in ("standard", "sales"):
        return str(value)
    raise ValueError("Input should be 'standard' or 'sales' (or a target's raw type number)")


GroupType = Annotated[
    str | int,
    PlainValidator(_group_type),
    WithJsonSchema(
        {"anyOf": [{"enum": ["standard", "sales", *_TYPE_LABELS]}, {"type": "integer"}]}
    ),
]
"""standard or sales; or the raw number a target reports for a type crmconf cannot name
(24SevenOffice's undocumented Group.Type), carried through so plans and exports stay exact."""
Member = Annotated[
    str,
    BeforeValidator(_number_as_text),
    Strict(),
    StringConstraints(min_length=1, max_length=254, pattern=r"^\S+$"),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "minLength": 1, "maxLength": 254, "pattern": "^\\S+$"},
                {"type": "integer"},
            ]
        }
    ),
]
"""A user of the CRM, by login; or by number where the target knows users only by number
(24SevenOffice's contact id), compared as text."""


class Group(NamedItem):
    """A group of users; names are unique across the whole tree."""

    SHORT_FORM: ClassVar[bool] = False

    name: Name
    type: GroupType
    description: str = ""
    members: tuple[Member, ...] = ()
    children: tuple[Group, ...] = ()

    def record_fields(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "description": self.description.strip(),
            "members": sorted(set(self.members)),
        }


GROUPS = Kind(
    name="groups",
    singular="group",
    ui_path="Administration – Inställningar – CRM – Grupper",
    item_model=Group,
    tree=True,
    labels={
        "name": "Gruppnamn",
        "description": "Beskrivning",
        "type": "Grupptyp",
        "members": "Medlemmar",
    },
    value_labels={"type": {"standard": "Standard", "sales": "Försäljning"}},
    references=(Reference(field="parent", kind="groups"),),
    users_field="members",
    storage_name="crm_groups",
)
