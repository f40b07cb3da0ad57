"""Additional customer information (Tilläggsinformation på kund): option lists and a switch."""

from __future__ import annotations

from crmconf.model.kind import Kind, Migration, NamedItem
from crmconf.model.names import Name

_UI_PATH = "Administration – Inställningar – CRM – Tilläggsinformation om kund"
_OPTIONS_TABLE = "customer_info_options"
"""The option lists share one table where targets keep their own (the sandbox)."""


class Option(NamedItem):
    """One choice of an option list shown on the customer card."""

    name: Name


SHOW_AS_TAB = Kind(name="customer_info.show_as_tab", singular="switch", ui_path=_UI_PATH)
CONTACT_ORIGINS = Kind(
    name="customer_info.contact_origins",
    singular="contact origin",
    ui_path=_UI_PATH,
    item_model=Option,
    ordered=True,
    migration=Migration("move_customers_to", clear_field="unassign"),
    storage_name=_OPTIONS_TABLE,
)
PRODUCTS = Kind(
    name="customer_info.products",
    singular="product",
    ui_path=_UI_PATH,
    item_model=Option,
    ordered=True,
    migration=Migration("move_customers_to", clear_field="unassign"),
    storage_name=_OPTIONS_TABLE,
)
SOURCES = Kind(
    name="customer_info.sources",
    singular="source",
    ui_path=_UI_PATH,
    item_model=Option,
    ordered=True,
    migration=Migration("move_customers_to", clear_field="unassign"),
    storage_name=_OPTIONS_TABLE,
)
