"""The planner's comparison on plain models, and its cost: linear in the number of items.

Plans here are made from `Configuration` and `State` values built in the test, without
a target, so that the work counted is the planner's own.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

from crmconf.kinds import CATEGORIES, GROUPS, INDUSTRIES, STAGES
from crmconf.model.configuration import Configuration
from crmconf.model.kind import Record
from crmconf.model.names import identity
from crmconf.model.state import ExistingItem, State
from crmconf.planning.changes import Action, Plan
from crmconf.planning.planner import plan


def _group(name: str, members: list[str], description: str = "") -> dict[str, Any]:
    return {"type": "standard", "description": description, "members": members, "parent": None}


def test_identity_folds_case_and_collapses_every_kind_of_whitespace() -> None:
    assert identity("Data/IT") == "data/it"
    assert identity("Straße Nord") == "strasse nord"
    assert identity("  Data \t IT\u00a0\u3000x ") == "data it x"
    assert identity("Bygg\n") == identity("bygg")


def test_member_order_and_repetition_in_the_target_are_no_change() -> None:
    record = Record("Sälj", _group("Sälj", ["anna", "erik"], "Säljare"))
    item = ExistingItem(7, "Sälj", _group("Sälj", ["erik", "anna", "erik"], "Säljare"))

    result = plan(Configuration({GROUPS.name: (record,)}), State({GROUPS.name: (item,)}))

    assert result.changes == ()


def test_an_update_names_the_fields_that_differ_in_the_configurations_order() -> None:
    record = Record("Sälj", _group("Sälj", ["anna", "erik", "maria"], "Säljare"))
    item = ExistingItem(7, "Sälj", _group("Sälj", ["erik", "anna"], "Sälj"))

    (change,) = plan(Configuration({GROUPS.name: (record,)}), State({GROUPS.name: (item,)})).changes

    assert (change.action, change.changed) == (Action.UPDATE, ("description", "members"))


def _configuration_and_state(n: int) -> tuple[Configuration, State]:
    """n of each kind: creates, updates, renames, deletes, moves and a deep group tree."""
    categories = [Record(f"Kategori {i}", {"show_on": "both"}) for i in range(n)]
    existing_categories = [
        ExistingItem(i, f"Kategori {i}", {"show_on": "both" if i % 10 else "customer"})
        for i in range(n)
        if i % 10 != 1
    ] + [ExistingItem(n + i, f"Gammal {i}", {"show_on": "both"}) for i in range(n // 20)]
    industries = [
        Record(f"Bransch {i}", {}, renamed_from=(f"Förr {i}",) if i % 10 == 0 else ())
        for i in range(n)
    ]
    existing_industries = [
        ExistingItem(i, f"Förr {i}" if i % 10 == 0 else f"Bransch {i}", {}) for i in range(n)
    ]

    def parent(i: int) -> str | None:
        return f"Grupp {(i - 1) // 3}" if i else None

    groups = [
        Record(f"Grupp {i}", {**_group("", [f"user{i}"], f"Team {i}"), "parent": parent(i)})
        for i in range(n)
    ]
    existing_groups = [
        ExistingItem(
            i,
            f"Grupp {i}",
            {**_group("", [f"user{i}"], f"Team {i + (i % 7 == 0)}"), "parent": parent(i)},
        )
        for i in range(n)
    ]
    stage = {"probability": 50, "status": "open", "rejection_reason": None}
    stages = [Record(f"Steg {i}", stage) for i in range(n)]
    # Every tenth pair of stages is swapped in the target: those are moves.
    order = [i + 1 if i % 20 == 0 else i - 1 if i % 20 == 1 else i for i in range(n)]
    existing_stages = [ExistingItem(i, f"Steg {i}", stage) for i in order]
    config = Configuration(
        {
            CATEGORIES.name: tuple(categories),
            INDUSTRIES.name: tuple(industries),
            GROUPS.name: tuple(groups),
            STAGES.name: tuple(stages),
        }
    )
    state = State(
        {
            CATEGORIES.name: tuple(existing_categories),
            INDUSTRIES.name: tuple(existing_industries),
            GROUPS.name: tuple(existing_groups),
            STAGES.name: tuple(existing_stages),
        },
        users=frozenset(f"user{i}" for i in range(n)),
    )
    return config, state


def _calls(work: Callable[[], Plan]) -> tuple[int, Plan]:
    """Function calls (Python and C) made by `work`: a count of work, unlike a clock."""
    count = 0

    def profiler(_frame: Any, event: str, _arg: Any) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profiler)
    try:
        result = work()
    finally:
        sys.setprofile(None)
    return count, result


def test_planning_work_grows_linearly_with_the_number_of_items() -> None:
    small, large = 300, 1200
    counted = {}
    for n in (small, large):
        config, state = _configuration_and_state(n)
        counted[n], result = _calls(functools.partial(plan, config, state))
        # Updates: a tenth of categories and industries (renamed), a seventh of groups,
        # and one stage of every tenth pair (swapped).
        updates = n // 10 + n // 10 + n // 7 + 1 + n // 20
        assert result.summary() == {"create": n // 10, "update": updates, "delete": n // 20}

    assert counted[large] / counted[small] <= 1.1 * large / small
