"""The layout shows the architecture, and holds: no import cycle anywhere in crmconf, and
nothing at the package root but the public API, the errors, the entry points and __init__.

The import graph is grimp's (the library under import-linter): every import statement,
inside functions too, except those only a type checker runs (`if TYPE_CHECKING:`).
"""

from __future__ import annotations

import grimp

from tests.conftest import ROOT

ROOT_MODULES = {"crmconf", "crmconf.api", "crmconf.errors", "crmconf.__main__"}
"""The public API, the errors, the entry point and the package itself."""
WINGS = {"cli", "config", "kinds", "model", "pipeline", "planning", "targets", "tenants", "testing"}


def _graph() -> grimp.ImportGraph:
    return grimp.build_graph("crmconf", exclude_type_checking_imports=True, cache_dir=None)


def test_no_module_is_part_of_an_import_cycle() -> None:
    graph = _graph()
    cycles = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            if imported == importer:
                continue
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back is not None:
                cycles.append(" → ".join((importer, *back)))
    assert cycles == []


def test_the_package_root_holds_only_the_api_errors_and_entry_points() -> None:
    graph = _graph()
    top = {module for module in graph.modules if module.count(".") <= 1}
    loose = sorted(top - ROOT_MODULES - {f"crmconf.{wing}" for wing in WINGS})
    assert loose == []
    assert {f"crmconf.{wing}" for wing in WINGS} <= graph.modules


def test_the_library_never_imports_the_command_line() -> None:
    graph = _graph()
    library = {m for m in graph.modules if not m.startswith(("crmconf.cli", "crmconf.__main__"))}
    offenders = sorted(
        f"{importer} imports {imported}"
        for importer in library
        for imported in graph.find_modules_directly_imported_by(importer)
        if imported.startswith("crmconf.cli")
    )
    assert offenders == []


def test_the_source_tree_is_the_package() -> None:
    # grimp reads the installed package: make sure it is this checkout's.
    import crmconf

    assert crmconf.__file__ is not None and crmconf.__file__.startswith(str(ROOT))


def test_the_graph_holds_every_module_of_the_source_tree() -> None:
    # A folder without __init__.py would be a namespace package grimp leaves out.
    package = ROOT / "crmconf"
    files = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in package.rglob("*.py")
        if "migrations" not in path.parts  # Alembic's scripts: loaded by Alembic, not imported
    }
    assert files <= _graph().modules


FEATURE_METHODS = {
    "history": ("history", "rollback"),
    "move_customers": ("count_customers", "move_customers"),
    "pipeline": ("pipeline",),
    "list_deleted_customers": ("deleted_customers",),
    "restore_customers": ("restore_customers",),
}


def test_every_feature_a_target_declares_is_one_it_implements_and_no_other() -> None:
    from crmconf.targets.base import Target
    from crmconf.targets.capabilities import Feature
    from crmconf.targets.sandbox.target import _CAPABILITIES as SANDBOX
    from crmconf.targets.sandbox.target import SandboxTarget
    from crmconf.targets.twentyfour.target import _CAPABILITIES as TWENTYFOUR
    from crmconf.targets.twentyfour.target import TwentyFourTarget

    assert set(FEATURE_METHODS) == {feature.value for feature in Feature}
    for target, capabilities in ((SandboxTarget, SANDBOX), (TwentyFourTarget, TWENTYFOUR)):
        for feature in Feature:
            declared = feature in capabilities.features
            for method in FEATURE_METHODS[feature.value]:
                implemented = getattr(target, method) is not getattr(Target, method)
                assert declared == implemented, f"{target.__name__}.{method} ({feature})"
