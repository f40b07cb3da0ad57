"""Feature switches, such as restoring deleted customers (Återställa kunder)."""

from __future__ import annotations

from crmconf.model.kind import Kind

RESTORE_CUSTOMERS = Kind(
    name="features.restore_customers",
    singular="switch",
    ui_path="Administration – Inställningar – CRM – Återställa kunder",
    enable_note="the vendor's support must first activate the service",
)
