"""Groups (Grupper): a tree of user groups, Standard or Sales, with members."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Strict, StringConstraints, WithJsonSchema

from crmconf.model.kind import Kind, NamedItem, Reference
from crmconf.model.names import Name

_TYPE_LABELS = {"Standard": "standard", "Försäljning": "sales"}


def _from_label(value: Any) -> Any:
    return _TYPE_LABELS.get(value, value) if isinstance(value, str) else value


GroupType = Annotated[
    Literal["standard", "sales"],
    BeforeValidator(_from_label),
    WithJsonSchema({"enum": ["standard", "sales", *_TYPE_LABELS]}),
]
Member = Annotated[str, Strict(), StringConstraints(min_length=1, max_length=254, pattern=r"^\S+$")]
"""A user of the CRM, by login."""


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
)
