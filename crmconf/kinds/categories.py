"""Categories (Kategorier): ticked on customers and contacts."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from crmconf.model.kind import Kind, Migration, NamedItem
from crmconf.model.names import Name

ShowOn = Literal["customer", "contact", "both"]


class Category(NamedItem):
    """A category, shown on customers, on contacts or on both."""

    SHORT_FORM: ClassVar[bool] = False

    name: Name
    show_on: ShowOn

    def record_fields(self) -> dict[str, Any]:
        return {"show_on": self.show_on}


CATEGORIES = Kind(
    name="categories",
    singular="category",
    ui_path="Administration – Inställningar – CRM – Kategorier",
    item_model=Category,
    labels={"name": "Namn", "show_on": "Visas på"},
    value_labels={
        "show_on": {"customer": "kund", "contact": "kontakt", "both": "kund och kontakt"}
    },
    migration=Migration("reassign_to", clear_field="unassign"),
)
