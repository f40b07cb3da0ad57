"""The registry of settings kinds, in dependency order (referenced kinds first).

Adding a kind means adding its module and listing its declaration here; the
loader, schema, planner and renderers all read from this tuple.
"""

from __future__ import annotations

from crmconf.kinds.categories import CATEGORIES
from crmconf.kinds.customer_info import CONTACT_ORIGINS, PRODUCTS, SHOW_AS_TAB, SOURCES
from crmconf.kinds.features import RESTORE_CUSTOMERS
from crmconf.kinds.groups import GROUPS
from crmconf.kinds.simple_lists import INDUSTRIES, REJECTION_REASONS, SALE_TYPES, STATUS_TYPES
from crmconf.kinds.stages import STAGES
from crmconf.model.kind import Kind

__all__ = [
    "ALL_KINDS",
    "CATEGORIES",
    "CONTACT_ORIGINS",
    "GROUPS",
    "INDUSTRIES",
    "KINDS_BY_NAME",
    "PRODUCTS",
    "REJECTION_REASONS",
    "RESTORE_CUSTOMERS",
    "SALE_TYPES",
    "SHOW_AS_TAB",
    "SOURCES",
    "STAGES",
    "STATUS_TYPES",
    "kind_named",
]

ALL_KINDS: tuple[Kind, ...] = (
    SHOW_AS_TAB,
    CONTACT_ORIGINS,
    PRODUCTS,
    SOURCES,
    CATEGORIES,
    GROUPS,
    INDUSTRIES,
    STATUS_TYPES,
    REJECTION_REASONS,
    SALE_TYPES,
    STAGES,
    RESTORE_CUSTOMERS,
)
KINDS_BY_NAME: dict[str, Kind] = {kind.name: kind for kind in ALL_KINDS}


def kind_named(name: str) -> Kind:
    """The kind declared under a section name such as ``sales.stages``."""
    return KINDS_BY_NAME[name]
