"""The registry of settings kinds, in dependency order (referenced kinds first).

Adding a kind means adding its module and listing its declaration here (or calling
`register`); the loader, schema, planner, renderers and targets all read from this
registry, and whatever they derive from it is derived again when it changes
(`generation`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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
    "generation",
    "kind_named",
    "register",
    "registered",
    "unregister",
]

ALL_KINDS: list[Kind] = [
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
]
"""Every kind, referenced kinds first; changed only through `register` / `unregister`."""
KINDS_BY_NAME: dict[str, Kind] = {kind.name: kind for kind in ALL_KINDS}
_generation = 0


def generation() -> int:
    """A number that changes whenever a kind is registered or unregistered: what is derived
    from the registry (the document model, the sandbox's tables) is cached per generation."""
    return _generation


def register(kind: Kind) -> None:
    """Add a kind to the registry, after the kinds it references."""
    global _generation
    if kind.name in KINDS_BY_NAME:
        raise ValueError(f"a kind named {kind.name!r} is registered already")
    unknown = [ref.kind for ref in kind.references if ref.kind not in (*KINDS_BY_NAME, kind.name)]
    if unknown:
        raise ValueError(f"{kind.name} references kinds that are not registered: {unknown}")
    ALL_KINDS.append(kind)
    KINDS_BY_NAME[kind.name] = kind
    _generation += 1


def unregister(kind: Kind) -> None:
    """Remove a kind registered with `register` (no other kind may reference it)."""
    global _generation
    users = [other.name for other in ALL_KINDS for ref in other.references if ref.kind == kind.name]
    if any(name != kind.name for name in users):
        raise ValueError(f"{kind.name} is referenced by {users}")
    ALL_KINDS.remove(kind)
    del KINDS_BY_NAME[kind.name]
    _generation += 1


@contextmanager
def registered(kind: Kind) -> Iterator[Kind]:
    """The kind registered for the block (tests, plugins trying a kind out)."""
    register(kind)
    try:
        yield kind
    finally:
        unregister(kind)


def kind_named(name: str) -> Kind:
    """The kind declared under a section name such as ``sales.stages``."""
    return KINDS_BY_NAME[name]
