"""Groups (Grupper): a tree of user groups, Standard or Sales, with members."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BeforeValidator,
    PlainValidator,
    Strict,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from crmconf.model.choices import not_one_of
from crmconf.model.kind import Kind, NamedItem, Reference
from crmconf.model.names import Name, as_whole

_TYPE_LABELS = {"Standard": "standard", "Försäljning": "sales"}


def _from_label(value: Any) -> Any:
    return _TYPE_LABELS.get(value, value) if isinstance(value, str) else value


CONTACT_NUMBER_MAX = 2**31 - 1
"""Largest member number: 24SevenOffice's contact ids are xsd:int."""


def _number_as_text(value: Any) -> Any:
    value = as_whole(value)
    if not isinstance(value, int) or isinstance(value, bool):
        return value
    if not 0 <= value <= CONTACT_NUMBER_MAX:
        raise PydanticCustomError(
            "member_number",
            "a member's number is from 0 to {maximum}",
            {"maximum": CONTACT_NUMBER_MAX, "hint": "write the user's login or contact id"},
        )
    return str(value)


TYPE_NUMBER_MAX = 2**31 - 1
"""Largest raw type number: 24SevenOffice's Group.Type is an xsd:int, and the sandbox keeps
it as text of up to 20 characters (non-negative, so that it reads back as a number)."""


def _group_type(value: Any) -> str | int:
    value = as_whole(_from_label(value))
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value <= TYPE_NUMBER_MAX:
            raise PydanticCustomError(
                "group_type_number",
                "a raw group type number is from 0 to {maximum}",
                {"maximum": TYPE_NUMBER_MAX, "hint": "write standard or sales"},
            )
        return value
    if value in ("standard", "sales"):
        return str(value)
    raise not_one_of(value, ("standard", "sales"), tuple(_TYPE_LABELS))


GroupType = Annotated[
    str | int,
    PlainValidator(_group_type),
    WithJsonSchema(
        {
            "anyOf": [
                {"enum": ["standard", "sales", *_TYPE_LABELS]},
                {"type": "integer", "minimum": 0, "maximum": TYPE_NUMBER_MAX},
            ]
        }
    ),
]
"""standard or sales; or the raw number a target reports for a type crmconf cannot name
(24SevenOffice's undocumented Group.Type), carried through so plans and exports stay exact."""
MEMBER_PATTERN = r"^\S+$"
"""A login holds no whitespace (a space inside one is a typo, or two logins run together)."""
Member = Annotated[
    str,
    BeforeValidator(_number_as_text),
    Strict(),
    StringConstraints(min_length=1, max_length=254, pattern=MEMBER_PATTERN),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "minLength": 1, "maxLength": 254, "pattern": MEMBER_PATTERN},
                {"type": "integer", "minimum": 0, "maximum": CONTACT_NUMBER_MAX},
            ]
        }
    ),
]
"""A user of the CRM, by login; or by number where the target knows users only by number
(24SevenOffice's contact id), compared as text."""


def _without_nul(value: str) -> str:
    if "\x00" in value:
        raise PydanticCustomError(
            "nul_character",
            "the text holds the character U+0000 (NUL), which databases cannot store",
            {"hint": "remove the \\0 escape"},
        )
    return value


Description = Annotated[
    str,
    Strict(),
    AfterValidator(_without_nul),
    WithJsonSchema({"type": "string", "pattern": "^[^\\u0000]*$"}),
]
"""Free text of any length (the sandbox keeps it as Text), without NUL, which PostgreSQL
refuses in text."""


class Group(NamedItem):
    """A group of users; names are unique across the whole tree."""

    SHORT_FORM: ClassVar[bool] = False

    name: Name
    type: GroupType
    description: Description = ""
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
