"""Kinds that are plain lists of names: industries, status types, rejection reasons, sale types.

Customers and opportunities point at these by identity, which is why a rename keeps
its identity and a delete of one still in use is refused.
"""

from __future__ import annotations

from crmconf.model.kind import Kind, Migration, NamedItem
from crmconf.model.names import Name


class Industry(NamedItem):
    """An industry (Bransch) a customer belongs to."""

    name: Name


class StatusType(NamedItem):
    """A status (Statustyp) chosen on a customer, e.g. Aktiv."""

    name: Name


class RejectionReason(NamedItem):
    """Why a deal was lost (Avvisning), e.g. Pris."""

    name: Name


class SaleType(NamedItem):
    """The kind of sale (Typ), e.g. Merförsäljning."""

    name: Name


INDUSTRIES = Kind(
    name="industries",
    singular="industry",
    ui_path="Administration – Inställningar – CRM – Branscher",
    item_model=Industry,
    migration=Migration("move_customers_to"),
)
STATUS_TYPES = Kind(
    name="status_types",
    singular="status type",
    ui_path="Administration – Inställningar – CRM – Statustyper",
    item_model=StatusType,
    migration=Migration("move_customers_to"),
)
REJECTION_REASONS = Kind(
    name="sales.rejection_reasons",
    singular="rejection reason",
    ui_path="Administration – Inställningar – CRM – Säljmöjligheter – Avvisning",
    item_model=RejectionReason,
    migration=Migration("move_opportunities_to", clear_field="clear"),
)
SALE_TYPES = Kind(
    name="sales.types",
    singular="sale type",
    ui_path="Administration – Inställningar – CRM – Säljmöjligheter – Typ",
    item_model=SaleType,
    migration=Migration("move_opportunities_to"),
    storage_name="sale_types",
)
