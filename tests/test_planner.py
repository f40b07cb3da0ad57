"""Planning against a real demo sandbox: matching, renames, moves, order and refusals.

Plans are made and applied through the Python API; what they did is read back from
the SQLite file with plain SQL, independently of crmconf's own reading code.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from crmconf.api import apply, load, plan
from crmconf.errors import PlanError
from crmconf.planning.changes import Action, Change, Plan
from crmconf.targets.sandbox.admin import init_sandbox
from crmconf.targets.sandbox.target import SandboxTarget
from tests import postgres
from tests.conftest import ROOT

WriteConfig = Callable[..., Path]

DEMO_STAGES = [
    ("Steg 1 Telefonsamtal", 15, "open"),
    ("Steg 2 Första besök", 35, "open"),
    ("Steg 3 Andra besök", 50, "open"),
    ("Steg 4 Uppföljningssamtal", 100, "open_won"),
]
DEMO_GROUPS = """\
groups:
  - {name: Försäljning, type: sales, description: Säljare, members: [anna@example.com]}
  - {name: Administration, type: standard, members: [lisa@example.com]}
"""


def _stages_yaml(stages: list[tuple[str, int, str]], extra: str = "") -> str:
    lines = "".join(
        f"    - {{title: {title}, probability: {probability}, status: {status}}}\n"
        for title, probability, status in stages
    )
    return f"crmconf: 1\nsales:\n{extra}  stages:\n{lines}"


def _sql(url: str, query: str, *parameters: Any) -> list[tuple[Any, ...]]:
    """Rows of a query on the sandbox file, read-only and without crmconf."""
    if url.startswith("postgresql"):
        return postgres.rows(url, query, *parameters)
    path = url.removeprefix("sqlite:///")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        return connection.execute(query, parameters).fetchall()


def _tables(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of the CRM (not crmconf's own bookkeeping) with its rows, in a stable order."""
    if url.startswith("postgresql"):
        everything = postgres.tables(url).items()
        return {name: sorted(rows, key=repr) for name, rows in everything if "crmconf_" not in name}
    names = [row[0] for row in _sql(url, "SELECT name FROM sqlite_master WHERE type = 'table'")]
    crm = [name for name in names if not name.startswith("crmconf_")]
    return {name: sorted(_sql(url, f'SELECT * FROM "{name}"'), key=repr) for name in crm}


def _id(url: str, table: str, name: str, column: str = "name") -> int:
    (row,) = _sql(url, f"SELECT id FROM {table} WHERE {column} = ?", name)
    return int(row[0])


@pytest.fixture(scope="module")
def shared_demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One demo sandbox for tests that only plan (that plans never write is tested apart)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'crm.db'}"
    init_sandbox(url, demo=True)
    return url


def _plan(path: Path, target: SandboxTarget) -> Plan:
    # The planner's order is the subject here, not the mass-change guard (tests/test_safety.py).
    return plan(load(path), target, allow_mass_change=True)


def _position(changes: tuple[Change, ...], kind: str, name: str, action: Action) -> int:
    (index,) = [
        index
        for index, change in enumerate(changes)
        if change.kind == kind and change.name == name and change.action is action
    ]
    return index


def _pipeline(url: str) -> list[str]:
    return [row[0] for row in _sql(url, "SELECT title FROM stages ORDER BY position, id")]


# Matching by identity


def test_names_match_by_identity_ignoring_case_and_whitespace(
    write_config: WriteConfig, demo_url: str, demo_target: SandboxTarget
) -> None:
    ids = {name: _id(demo_url, "industries", name) for name in ("Bygg", "Data/IT", "Turism")}
    path = write_config("crmconf: 1\nindustries: [bygg, '  DATA/IT ', Turism]\n")

    result = _plan(path, demo_target)

    assert [(c.action, c.id, c.changed) for c in result.changes] == [
        (Action.UPDATE, ids["Bygg"], ("name",)),
        (Action.UPDATE, ids["Data/IT"], ("name",)),
    ]
    apply(result, demo_target)
    assert sorted(_sql(demo_url, "SELECT id, name FROM industries")) == sorted(
        [(ids["Bygg"], "bygg"), (ids["Data/IT"], "DATA/IT"), (ids["Turism"], "Turism")]
    )


def test_identical_configuration_plans_no_changes(
    write_config: WriteConfig, demo_target: SandboxTarget
) -> None:
    path = write_config(
        _stages_yaml(DEMO_STAGES, "  rejection_reasons: [Pris]\n  types: [Nyförsäljning]\n")
        + "industries: [Bygg, Data/IT, Turism]\n"
        + DEMO_GROUPS
    )

    assert _plan(path, demo_target).changes == ()


# Renames in place


def test_rename_in_place_keeps_the_row_and_the_customers_using_it(
    write_config: WriteConfig, demo_url: str, demo_target: SandboxTarget
) -> None:
    old_id = _id(demo_url, "industries", "Data/IT")
    customers = _sql(demo_url, "SELECT id FROM customers WHERE industry_id = ?", old_id)
    assert customers
    path = write_config(
        "crmconf: 1\nindustries: [Bygg, {name: IT och telekom, renamed_from: [data/it]}, Turism]\n"
    )

    result = _plan(path, demo_target)

    (change,) = result.changes
    assert change.action is Action.UPDATE and change.changed == ("name",)
    assert (change.before, change.after) == ({"name": "Data/IT"}, {"name": "IT och telekom"})
    apply(result, demo_target)
    assert _sql(demo_url, "SELECT name FROM industries WHERE id = ?", old_id) == [
        ("IT och telekom",)
    ]
    assert _sql(demo_url, "SELECT id FROM customers WHERE industry_id = ?", old_id) == customers
    assert _sql(demo_url, "SELECT count(*) FROM industries") == [(3,)]
    assert _plan(path, demo_target).empty


def test_renamed_stage_keeps_its_opportunities_and_its_place(
    write_config: WriteConfig, demo_url: str, demo_target: SandboxTarget
) -> None:
    old_id = _id(demo_url, "stages", "Steg 2 Första besök", "title")
    opportunities = _sql(demo_url, "SELECT id FROM opportunities WHERE stage_id = ?", old_id)
    assert opportunities
    text = _stages_yaml(DEMO_STAGES).replace(
        "{title: Steg 2 Första besök,", "{title: Steg 2 Möte, renamed_from: [Steg 2 Första besök],"
    )
    path = write_config(text)

    result = _plan(path, demo_target)

    (change,) = result.changes
    assert change.changed == ("name",) and change.id == old_id
    apply(result, demo_target)
    assert (
        _sql(demo_url, "SELECT id FROM opportunities WHERE stage_id = ?", old_id) == opportunities
    )
    assert _pipeline(demo_url)[1] == "Steg 2 Möte"


def test_renamed_from_an_item_the_target_lacks_creates_it(
    write_config: WriteConfig, demo_target: SandboxTarget
) -> None:
    path = write_config(
        "crmconf: 1\nindustries: [Bygg, Data/IT, Turism, {name: Handel, renamed_from: [Butik]}]\n"
    )

    (change,) = _plan(path, demo_target).changes

    assert (change.action, change.name) == (Action.CREATE, "Handel")


def test_reference_to_a_renamed_item_follows_the_rename(
    write_config: WriteConfig, sandbox_url: str
) -> None:
    first = write_config(
        _stages_yaml([("Ny", 10, "open")], "  rejection_reasons: [Tid]\n")
        + "    - {title: L, probability: 0, status: closed_lost, rejection_reason: Tid}\n",
        "first.yaml",
    )
    second = write_config(
        _stages_yaml(
            [("Ny", 10, "open")], "  rejection_reasons: [{name: Tidsbrist, renamed_from: [Tid]}]\n"
        )
        + "    - {title: L, probability: 0, status: closed_lost, rejection_reason: Tidsbrist}\n",
        "second.yaml",
    )
    with SandboxTarget.open(sandbox_url) as target:
        apply(_plan(first, target), target)
        reason_id = _id(sandbox_url, "rejection_reasons", "Tid")

        result = _plan(second, target)

        assert [(c.kind, c.changed) for c in result.changes] == [
            ("sales.rejection_reasons", ("name",))
        ]
        apply(result, target)
    assert _sql(sandbox_url, "SELECT rejection_reason_id FROM stages WHERE title = 'L'") == [
        (reason_id,)
    ]


# Order: only what really moved


def test_inserting_a_stage_at_the_top_moves_no_other_stage(
    write_config: WriteConfig, demo_url: str, demo_target: SandboxTarget
) -> None:
    path = write_config(_stages_yaml([("Steg 0 Lead", 5, "open"), *DEMO_STAGES]))

    result = _plan(path, demo_target)

    assert [(c.action, c.name) for c in result.changes] == [(Action.CREATE, "Steg 0 Lead")]
    apply(result, demo_target)
    assert _pipeline(demo_url) == ["Steg 0 Lead", *(title for title, _p, _s in DEMO_STAGES)]
    assert _plan(path, demo_target).empty


@pytest.mark.parametrize(
    ("order", "moved"),
    [
        ([3, 0, 1, 2], ["Steg 4 Uppföljningssamtal"]),
        ([1, 2, 3, 0], ["Steg 1 Telefonsamtal"]),
        ([0, 2, 1, 3], ["Steg 2 Första besök"]),
        ([3, 2, 1, 0], 3),
    ],
    ids=["last to first", "first to last", "swap", "reverse"],
)
def test_reordering_stages_reports_only_the_moved_ones(
    write_config: WriteConfig,
    demo_url: str,
    demo_target: SandboxTarget,
    order: list[int],
    moved: list[str] | int,
) -> None:
    wanted = [DEMO_STAGES[index] for index in order]
    path = write_config(_stages_yaml(wanted))

    result = _plan(path, demo_target)

    assert all(c.action is Action.UPDATE and c.changed == ("position",) for c in result.changes)
    if isinstance(moved, int):
        assert len(result.changes) == moved
    else:
        assert [c.name for c in result.changes] == moved
    apply(result, demo_target)
    assert _pipeline(demo_url) == [title for title, _p, _s in wanted]
    assert _plan(path, demo_target).empty


def test_reordering_an_option_list_reports_only_the_moved_option(
    write_config: WriteConfig, demo_url: str, demo_target: SandboxTarget
) -> None:
    path = write_config("crmconf: 1\ncustomer_info:\n  products: [CRM, Lön, Ekonomi]\n")

    result = _plan(path, demo_target)

    assert sorted((c.action, c.name, c.changed) for c in result.changes) == [
        (Action.CREATE, "CRM", ()),
        (Action.UPDATE, "Lön", ("position",)),
    ] or sorted((c.action, c.name, c.changed) for c in result.changes) == [
        (Action.CREATE, "CRM", ()),
        (Action.UPDATE, "Ekonomi", ("position",)),
    ]
    apply(result, demo_target)
    products = _sql(
        demo_url,
        "SELECT name FROM customer_info_options WHERE list = 'products' ORDER BY position, id",
    )
    assert products == [("CRM",), ("Lön",), ("Ekonomi",)]
    assert _plan(path, demo_target).empty


# Groups: moves and members


def test_group_moved_to_another_parent_is_an_update_of_its_parent(
    write_config: WriteConfig, demo_url: str, demo_target: SandboxTarget
) -> None:
    group_id = _id(demo_url, "crm_groups", "Administration")
    parent_id = _id(demo_url, "crm_groups", "Försäljning")
    path = write_config(
        """\
        crmconf: 1
        groups:
          - name: Försäljning
            type: sales
            description: Säljare
            members: [anna@example.com]
            children:
              - {name: Administration, type: standard, members: [lisa@example.com]}
        """
    )

    result = _plan(path, demo_target)

    (change,) = result.changes
    assert (change.action, change.name, change.changed) == (
        Action.UPDATE,
        "Administration",
        ("parent",),
    )
    assert change.before is not None and change.after is not None
    assert (change.before["parent"], change.after["parent"]) == (None, "Försäljning")
    assert change.is_move
    apply(result, demo_target)
    assert _sql(demo_url, "SELECT parent_id FROM crm_groups WHERE id = ?", group_id) == [
        (parent_id,)
    ]
    assert _plan(path, demo_target).empty
    back = write_config("crmconf: 1\n" + DEMO_GROUPS, "back.yaml")
    (change,) = _plan(back, demo_target).changes
    assert change.changed == ("parent",)


def test_members_added_and_removed_are_one_update(
    write_config: WriteConfig, demo_url: str, demo_target: SandboxTarget
) -> None:
    group_id = _id(demo_url, "crm_groups", "Försäljning")
    path = write_config(
        "crmconf: 1\n"
        + DEMO_GROUPS.replace("[anna@example.com]", "[maria@example.com, erik@example.com]")
    )

    result = _plan(path, demo_target)

    (change,) = result.changes
    assert (change.name, change.changed) == ("Försäljning", ("members",))
    assert change.before is not None and change.after is not None
    assert change.before["members"] == ["anna@example.com"]
    assert sorted(change.after["members"]) == ["erik@example.com", "maria@example.com"]
    apply(result, demo_target)
    members = _sql(
        demo_url,
        "SELECT login FROM group_members JOIN users ON users.id = user_id "
        "WHERE group_id = ? ORDER BY login",
        group_id,
    )
    assert members == [("erik@example.com",), ("maria@example.com",)]
    assert _plan(path, demo_target).empty


def test_member_order_and_repetition_are_no_change(
    write_config: WriteConfig, demo_target: SandboxTarget
) -> None:
    path = write_config(
        "crmconf: 1\n"
        + DEMO_GROUPS.replace(
            "[lisa@example.com]", "[lisa@example.com, anna@example.com, lisa@example.com]"
        )
    )
    apply(_plan(path, demo_target), demo_target)
    reordered = write_config(
        "crmconf: 1\n"
        + DEMO_GROUPS.replace("[lisa@example.com]", "[anna@example.com, lisa@example.com]"),
        "reordered.yaml",
    )

    assert _plan(reordered, demo_target).empty


# Dependency order


def test_rejection_reason_is_created_before_the_stage_naming_it(
    write_config: WriteConfig, demo_url: str, demo_target: SandboxTarget
) -> None:
    path = write_config(
        _stages_yaml(DEMO_STAGES, "  rejection_reasons: [Pris, Tid]\n")
        + "    - {title: Förlorad, probability: 0, status: closed_lost, rejection_reason: Tid}\n"
    )

    result = _plan(path, demo_target)

    reason = _position(result.changes, "sales.rejection_reasons", "Tid", Action.CREATE)
    stage = _position(result.changes, "sales.stages", "Förlorad", Action.CREATE)
    assert reason < stage
    apply(result, demo_target)
    assert _sql(demo_url, "SELECT rejection_reason_id FROM stages WHERE title = 'Förlorad'") == [
        (_id(demo_url, "rejection_reasons", "Tid"),)
    ]


def test_parent_group_is_created_before_its_children(
    write_config: WriteConfig, demo_url: str, demo_target: SandboxTarget
) -> None:
    path = write_config(
        """\
        crmconf: 1
        groups:
          - {name: Försäljning, type: sales, description: Säljare, members: [anna@example.com]}
          - name: Ledning
            type: standard
            children:
              - name: Administration
                type: standard
                members: [lisa@example.com]
                children:
                  - {name: Ekonomi, type: standard}
        """
    )

    result = _plan(path, demo_target)

    ledning = _position(result.changes, "groups", "Ledning", Action.CREATE)
    moved = _position(result.changes, "groups", "Administration", Action.UPDATE)
    ekonomi = _position(result.changes, "groups", "Ekonomi", Action.CREATE)
    assert ledning < moved < ekonomi
    apply(result, demo_target)
    parents = dict(
        _sql(
            demo_url,
            "SELECT child.name, parent.name FROM crm_groups child "
            "LEFT JOIN crm_groups parent ON parent.id = child.parent_id",
        )
    )
    assert parents == {
        "Försäljning": None,
        "Ledning": None,
        "Administration": "Ledning",
        "Ekonomi": "Administration",
    }


def test_deletes_come_last_and_children_before_parents(
    write_config: WriteConfig, sandbox_url: str
) -> None:
    tree = write_config(
        """\
        crmconf: 1
        groups:
          - name: A
            type: standard
            children:
              - name: B
                type: standard
                children: [{name: C, type: standard}]
          - {name: D, type: sales}
        """,
        "tree.yaml",
    )
    pruned = write_config("crmconf: 1\ngroups: [{name: E, type: sales}]\n", "pruned.yaml")
    with SandboxTarget.open(sandbox_url) as target:
        apply(_plan(tree, target), target)

        result = _plan(pruned, target)

        actions = [change.action for change in result.changes]
        assert actions == [Action.CREATE, *[Action.DELETE] * 4]
        deleted = [change.name for change in result.changes[1:]]
        assert deleted.index("C") < deleted.index("B") < deleted.index("A")
        apply(result, target)
    assert _sql(sandbox_url, "SELECT name FROM crm_groups") == [("E",)]


def test_stage_is_deleted_before_the_rejection_reason_it_names(
    write_config: WriteConfig, sandbox_url: str
) -> None:
    first = write_config(
        _stages_yaml([("Ny", 10, "open")], "  rejection_reasons: [Tid]\n")
        + "    - {title: L, probability: 0, status: closed_lost, rejection_reason: Tid}\n",
        "first.yaml",
    )
    second = write_config(
        _stages_yaml([("Ny", 10, "open")], "  rejection_reasons: []\n"), "second.yaml"
    )
    with SandboxTarget.open(sandbox_url) as target:
        apply(_plan(first, target), target)

        result = _plan(second, target)

        stage = _position(result.changes, "sales.stages", "L", Action.DELETE)
        reason = _position(result.changes, "sales.rejection_reasons", "Tid", Action.DELETE)
        assert stage < reason
        apply(result, target)
    assert _sql(sandbox_url, "SELECT count(*) FROM rejection_reasons") == [(0,)]


def test_every_delete_comes_after_every_create_and_update(demo_target: SandboxTarget) -> None:
    result = plan(load(ROOT / "examples" / "seed.yaml"), demo_target)

    actions = [change.action for change in result.changes]
    first_delete = actions.index(Action.DELETE)
    assert Action.DELETE in actions and Action.CREATE in actions
    assert all(action is Action.DELETE for action in actions[first_delete:])


# Deletes of items still in use


def _counted(count: int, noun: str) -> str:
    plural = "opportunities" if noun == "opportunity" else f"{noun}s"
    return f"{count} {noun if count == 1 else plural}"


@pytest.mark.parametrize(
    ("section", "name", "usage"),
    [
        ("industries: [Turism]", "Bygg", [("customers", "industry_id", "industries")]),
        ("status_types: [Vilande]", "Aktiv", [("customers", "status_type_id", "status_types")]),
        (
            "customer_info:\n  contact_origins: []",
            "Mässa",
            [("customers", "contact_origin_id", "customer_info_options")],
        ),
        (
            "customer_info:\n  sources: []",
            "Google",
            [("customers", "source_id", "customer_info_options")],
        ),
        (
            "customer_info:\n  products: []",
            "Ekonomi",
            [("customer_products", "option_id", "customer_info_options")],
        ),
        (
            "categories: [{name: Leverantör, show_on: both}]",
            "Partner",
            [
                ("customer_categories", "category_id", "categories"),
                ("contact_categories", "category_id", "categories"),
            ],
        ),
        (
            "sales:\n  rejection_reasons: []",
            "Pris",
            [("opportunities", "rejection_reason_id", "rejection_reasons")],
        ),
        ("sales:\n  types: []", "Nyförsäljning", [("opportunities", "sale_type_id", "sale_types")]),
        (
            "sales:\n  stages: [{title: Ny, probability: 10, status: open}]",
            "Steg 3 Andra besök",
            [("opportunities", "stage_id", "stages")],
        ),
    ],
    ids=[
        "industry",
        "status type",
        "contact origin",
        "source",
        "product",
        "category",
        "rejection reason",
        "sale type",
        "stage",
    ],
)
def test_deleting_an_item_still_in_use_is_refused_naming_how_many_use_it(
    write_config: WriteConfig,
    shared_demo_url: str,
    section: str,
    name: str,
    usage: list[tuple[str, str, str]],
) -> None:
    demo_url = shared_demo_url
    nouns = {
        "customers": "customer",
        "customer_products": "customer",
        "customer_categories": "customer",
        "contact_categories": "contact",
        "opportunities": "opportunity",
    }
    expected = []
    for table, column, settings in usage:
        column_name = "title" if settings == "stages" else "name"
        item_id = _id(demo_url, settings, name, column_name)
        ((count,),) = _sql(demo_url, f"SELECT count(*) FROM {table} WHERE {column} = ?", item_id)
        assert count > 0
        expected.append(_counted(count, nouns[table]))
    path = write_config(f"crmconf: 1\n{section}\n")

    with SandboxTarget.open(demo_url) as target, pytest.raises(PlanError) as refused:
        _plan(path, target)

    message = str(refused.value)
    (line,) = [line for line in message.splitlines() if f"{name!r}" in line and "used by" in line]
    assert f"used by {', '.join(expected)}" in line


def test_deleting_an_unused_item_is_planned(
    write_config: WriteConfig, demo_target: SandboxTarget
) -> None:
    path = write_config("crmconf: 1\nindustries: [Bygg, Data/IT]\n")

    (change,) = _plan(path, demo_target).changes

    assert (change.action, change.name) == (Action.DELETE, "Turism")


def test_deleting_a_rejection_reason_an_unmanaged_stage_names_is_refused(
    write_config: WriteConfig, sandbox_url: str
) -> None:
    both = write_config(
        _stages_yaml([("Ny", 10, "open")], "  rejection_reasons: [Pris, Tid]\n")
        + "    - {title: L, probability: 0, status: closed_lost, rejection_reason: Tid}\n",
        "both.yaml",
    )
    reasons_only = write_config("crmconf: 1\nsales:\n  rejection_reasons: [Pris]\n", "reasons.yaml")
    with SandboxTarget.open(sandbox_url) as target:
        apply(_plan(both, target), target)
        before = _tables(sandbox_url)

        with pytest.raises(PlanError) as refused:
            _plan(reasons_only, target)

    assert "'Tid'" in str(refused.value)
    assert "stage 'L'" in str(refused.value)
    assert _tables(sandbox_url) == before


# Absent sections are not managed; present ones are authoritative


@pytest.mark.parametrize(
    ("text", "managed"),
    [
        ("industries: [Bygg, Data/IT, Turism, Handel]", {"industries"}),
        ("sales:\n  types: [Nyförsäljning, Merförsäljning]", {"sale_types"}),
        ("customer_info:\n  sources: [Google, LinkedIn]", {"customer_info_options"}),
    ],
    ids=["top level", "nested in sales", "one option list"],
)
def test_absent_sections_are_left_exactly_as_they_are(
    write_config: WriteConfig,
    demo_url: str,
    demo_target: SandboxTarget,
    text: str,
    managed: set[str],
) -> None:
    before = _tables(demo_url)
    path = write_config(f"crmconf: 1\n{text}\n")

    result = _plan(path, demo_target)

    assert [change.action for change in result.changes] == [Action.CREATE]
    apply(result, demo_target)
    after = _tables(demo_url)
    for table in before:
        if table not in managed and table != "crmconf_history":  # the apply's own record
            assert after[table] == before[table], table
    if managed == {"customer_info_options"}:
        untouched = [row for row in before["customer_info_options"] if row[1] != "sources"]
        assert all(row in after["customer_info_options"] for row in untouched)


def test_empty_list_deletes_every_unused_item(write_config: WriteConfig, sandbox_url: str) -> None:
    first = write_config("crmconf: 1\nstatus_types: [Aktiv, Vilande]\n", "first.yaml")
    none = write_config("crmconf: 1\nstatus_types: []\n", "none.yaml")
    with SandboxTarget.open(sandbox_url) as target:
        apply(_plan(first, target), target)

        result = _plan(none, target)

        assert sorted((c.action, c.name) for c in result.changes) == [
            (Action.DELETE, "Aktiv"),
            (Action.DELETE, "Vilande"),
        ]
        apply(result, target)
    assert _sql(sandbox_url, "SELECT count(*) FROM status_types") == [(0,)]


# The Python API as the README shows it


def test_python_api_from_the_readme_works(tmp_path: Path) -> None:
    program = f"""
import crmconf
from crmconf.targets.sandbox.admin import init_sandbox

url = {f"sqlite:///{tmp_path / 'api.db'}"!r}
init_sandbox(url, demo=True, reset=True)
config = crmconf.load({str(ROOT / "examples" / "seed.yaml")!r})
with crmconf.open_target(url) as target:
    plan = crmconf.plan(config, target)
    crmconf.apply(plan, target)
    again = crmconf.plan(config, target)
    print(len(plan.changes), again.empty, "crmconf: 1" in crmconf.export(target))
"""

    run = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )

    assert run.returncode == 0, run.stderr
    assert run.stdout.split()[1:] == ["True", "True"]
