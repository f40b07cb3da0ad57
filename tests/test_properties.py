"""Properties of plan and apply on a real SQLite sandbox, over generated configurations.

Each example starts from a copy of the demo CRM, optionally changed first by applying a
random configuration and by pointing customer data at its settings; then draws a valid
configuration for that state (tests/strategies.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from sqlalchemy import event

from crmconf import api
from crmconf.errors import CrmconfError, PlanError, TargetError
from crmconf.kinds import ALL_KINDS, KINDS_BY_NAME
from crmconf.model.configuration import Configuration
from crmconf.model.names import identity
from crmconf.model.state import State
from tests.strategies import (
    configurations,
    data_rows,
    managed_kinds,
    orphans,
    profile,
    read_export,
    sandbox_copy,
    settings_of,
    shuffled,
    table_rows,
    to_yaml,
    use_settings,
)

pytestmark = pytest.mark.sqlite_only(reason="every example starts from a copy of the SQLite file")


def _write(folder: Path, document: Any, name: str = "crmconf.yaml") -> Path:
    path = folder / name
    path.write_text(to_yaml(document), encoding="utf-8")
    return path


def _start(data: st.DataObject, folder: Path, target: Any) -> None:
    """Move the demo CRM to an arbitrary state: other settings, data using them."""
    if data.draw(st.booleans(), label="start from changed settings"):
        document = data.draw(configurations(target.read(ALL_KINDS)), label="starting settings")
        api.apply(
            api.plan(_write(folder, document, "start.yaml"), target, allow_mass_change=True), target
        )
    if data.draw(st.booleans(), label="point data at the settings"):
        use_settings(data.draw, target)


def _exported(target: Any) -> dict[str, Any]:
    exported: dict[str, Any] = read_export(api.export(target))
    return exported


def _url(folder: Path) -> str:
    return f"sqlite:///{folder / 'crm.db'}"


# Convergence and idempotency


def _followed(found: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """Settings of unmanaged kinds as they read once the configuration's renames are applied:
    a stage keeps its rejection reason through a rename of that reason."""
    renames = {
        kind.name: {
            identity(old): identity(str(entry[kind.key_field]))
            for entry in _entries(document, kind.section)
            for old in entry.get("renamed_from", ())
        }
        for kind in ALL_KINDS
        if kind.item_model is not None
    }
    followed = {}
    for name, items in found.items():
        references = KINDS_BY_NAME[name].references
        if not isinstance(items, list) or not references:
            followed[name] = items
            continue
        followed[name] = [
            {
                **item,
                **{
                    ref.field: renames[ref.kind].get(item[ref.field], item[ref.field])
                    for ref in references
                    if ref.field in item and item[ref.field] is not None
                },
            }
            for item in items
        ]
    return followed


def _entries(document: dict[str, Any], section: tuple[str, ...]) -> list[dict[str, Any]]:
    node: Any = document
    for part in section:
        node = node.get(part, {}) if isinstance(node, dict) else {}
    entries: list[dict[str, Any]] = []
    for entry in node if isinstance(node, list) else []:
        if isinstance(entry, dict):
            entries.append(entry)
            entries.extend(_entries(entry, ("children",)))
    return entries


@profile(slice_examples=20)
@given(data=st.data())
def test_apply_converges_and_replans_empty(demo_url: str, data: st.DataObject) -> None:
    """After apply(plan(config)), the exported settings are the configuration's (convergence),
    kinds it does not manage are untouched, and planning again changes nothing (idempotency)."""
    with sandbox_copy(demo_url) as (folder, target):
        _start(data, folder, target)
        before = _exported(target)
        document = data.draw(configurations(target.read(ALL_KINDS)), label="configuration")
        path = _write(folder, document)
        api.apply(api.plan(path, target, allow_mass_change=True), target)
        after = _exported(target)
        managed = managed_kinds(document)
        assert settings_of(after, managed) == settings_of(document)
        unmanaged = [kind for kind in ALL_KINDS if kind not in managed]
        assert settings_of(after, unmanaged) == _followed(settings_of(before, unmanaged), document)
        again = api.plan(path, target)
        assert again.empty, again.changes


# Export


def _comparable(kind_name: str, pairs: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    return pairs if KINDS_BY_NAME[kind_name].ordered else sorted(pairs, key=lambda pair: pair[0])


@profile(slice_examples=25)
@given(data=st.data())
def test_export_round_trip(demo_url: str, data: st.DataObject) -> None:
    """plan(export(target), target) is empty, and loading the export gives the target's items."""
    with sandbox_copy(demo_url) as (folder, target):
        _start(data, folder, target)
        path = folder / "exported.yaml"
        path.write_text(api.export(target), encoding="utf-8")
        replanned = api.plan(path, target)
        assert replanned.empty, replanned.changes
        loaded = api.load(path)
        state = target.read(ALL_KINDS)
        for kind in ALL_KINDS:
            records = [(record.name, dict(record.fields)) for record in loaded.records(kind)]
            items = [(item.name, dict(item.fields)) for item in state.of(kind)]
            assert _comparable(kind.name, records) == _comparable(kind.name, items), kind.name


@pytest.mark.parametrize(
    ("section", "value"),
    [
        ("description", "A\x85B"),  # NEL: a line break to YAML 1.1 (refused in names)
        ("industries", "Lön ${HOME}"),  # written as Lön $${HOME}: literal text
        ("industries", "a $${b}"),
        ("description", "2024"),
        ("description", "³"),  # a digit to str.isdigit, not to int()
    ],
)
def test_unusual_values_survive_apply_and_export(demo_url: str, section: str, value: str) -> None:
    """Values the strategies draw now and then, each checked every run."""
    if section == "industries":
        document: dict[str, Any] = {"crmconf": 1, "industries": ["Bygg", "Data/IT", value]}
    else:
        group = {"name": "Försäljning", "type": "sales", "description": value}
        document = {"crmconf": 1, "groups": [group, {"name": "Administration", "type": "sales"}]}
    with sandbox_copy(demo_url) as (folder, target):
        path = _write(folder, document)
        api.apply(api.plan(path, target, allow_mass_change=True), target)
        assert api.plan(path, target).empty
        assert settings_of(_exported(target), managed_kinds(document)) == settings_of(document)
        exported = folder / "exported.yaml"
        exported.write_text(api.export(target), encoding="utf-8")
        assert api.plan(exported, target).empty


# Order independence


def _canonical(plan: Any) -> tuple[Any, ...]:
    changes = sorted(
        json.dumps(dataclasses.asdict(change), sort_keys=True, default=str)
        for change in plan.changes
    )
    warnings = sorted(warning.message for warning in plan.warnings)
    return changes, dict(plan.final_order), warnings


@profile(slice_examples=12)
@given(data=st.data())
def test_order_of_unordered_items_changes_nothing(demo_url: str, data: st.DataObject) -> None:
    """Shuffling keys and the items of every kind but stages and option lists: the same plan."""
    with sandbox_copy(demo_url) as (folder, target):
        _start(data, folder, target)
        document = data.draw(configurations(target.read(ALL_KINDS)), label="configuration")
        other = shuffled(document, data.draw(st.randoms(use_true_random=False)))
        first = api.plan(_write(folder, document, "first.yaml"), target)
        second = api.plan(_write(folder, other, "second.yaml"), target)
        assert _canonical(first) == _canonical(second)


# Data safety


def _deletes_in_use(config: Configuration, state: State) -> list[str]:
    """Names of existing items the configuration drops although data (or an unmanaged
    setting) still uses them: exactly what the planner must refuse."""
    doomed: list[str] = []
    for kind in ALL_KINDS:
        if not config.manages(kind):
            continue
        existing = {item.key for item in state.of(kind)}
        wanted = {record.key for record in config.records(kind)}
        kept = existing & wanted
        for record in config.records(kind):
            if record.key in existing:
                continue
            for old in map(identity, record.renamed_from):
                if old in existing and old not in wanted:
                    kept.add(old)
                    break
        users = [
            (other, reference.field)
            for other in ALL_KINDS
            for reference in other.references
            if reference.kind == kind.name and not config.manages(other)
        ]
        for item in state.of(kind):
            named_by_setting = any(
                identity(user.fields.get(field) or "") == item.key
                for other, field in users
                for user in state.of(other)
            )
            if item.key not in kept and (item.usage.total or named_by_setting):
                doomed.append(item.name)
    return doomed


def _customers_with_settings(url: str) -> dict[str, int]:
    rows = dict(data_rows(url))
    customers = rows["customers"]  # id, name, industry_id, status_type_id, …
    return {
        "industry": sum(1 for row in customers if row[2] is not None),
        "status": sum(1 for row in customers if row[3] is not None),
        "categories": len(rows["customer_categories"]) + len(rows["contact_categories"]),
    }


@profile(slice_examples=20)
@given(data=st.data())
def test_data_is_never_orphaned(demo_url: str, data: st.DataObject) -> None:
    """Configurations may drop used items: the plan must refuse exactly those, and an
    applied plan never detaches or orphans customer data."""
    with sandbox_copy(demo_url) as (folder, target):
        _start(data, folder, target)
        url = _url(folder)
        state = target.read(ALL_KINDS)
        keep_used = data.draw(st.booleans(), label="keep what data uses")
        document = data.draw(configurations(state, keep_used), label="configuration")
        config = api.load(_write(folder, document))
        doomed = _deletes_in_use(config, state)
        before, rows, counts = table_rows(url), data_rows(url), _customers_with_settings(url)
        if doomed:
            with pytest.raises(PlanError) as refused:
                api.plan(config, target)
            for name in doomed:
                assert repr(name) in str(refused.value) or name in str(refused.value)
            assert table_rows(url) == before
        else:
            api.apply(api.plan(config, target, allow_mass_change=True), target)
        assert not orphans(url)
        assert data_rows(url) == rows
        assert _customers_with_settings(url) == counts


# Atomicity

_INJECTED = "INJECTED FAILURE /* by tests/test_properties.py */"


def _writes(statement: str) -> bool:
    return statement.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE")


def _releases_lock(statement: str) -> bool:
    """The write that frees the target's lock, after the apply's transaction has ended."""
    return statement.lstrip().upper().startswith("DELETE") and "crmconf_lock" in statement


def _write_steps(folder: Path, plan: Any) -> tuple[list[bool], dict[str, Any]]:
    """Apply the plan to a copy of the target: for each write statement whether it frees the
    lock, and the settings the copy ends with."""
    copy = folder / "count.db"
    shutil.copyfile(folder / "crm.db", copy)
    steps: list[bool] = []
    with api.open_target(f"sqlite:///{copy}") as target:

        def record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
            if _writes(statement):
                steps.append(_releases_lock(statement))

        event.listen(target.engine, "before_cursor_execute", record)  # type: ignore[attr-defined]
        api.apply(plan, target)
        return steps, _exported(target)


@profile(slice_examples=10)
@given(data=st.data())
def test_failed_apply_changes_nothing(demo_url: str, data: st.DataObject) -> None:
    """A database failure at any write statement leaves every row of every table as it was.

    Writes are the lock's, then one transaction's, then the lock's release. A failure in
    the release comes after the commit: the apply must then have landed whole and say so
    as a crmconf error, not a traceback.
    """
    with sandbox_copy(demo_url) as (folder, target):
        _start(data, folder, target)
        url = _url(folder)
        document = data.draw(configurations(target.read(ALL_KINDS)), label="configuration")
        plan = api.plan(_write(folder, document), target)
        steps, applied = _write_steps(folder, plan)
        assume(steps)
        last = len(steps) - 1
        boundary = st.sampled_from([0, last])  # taking and freeing the lock
        failing = data.draw(st.one_of(boundary, st.integers(0, last)), label="failing write")
        seen = 0

        def inject(
            _conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any
        ) -> tuple[str, Any]:
            nonlocal seen
            if _writes(statement):
                seen += 1
                if seen == failing + 1:
                    return _INJECTED, parameters
            return statement, parameters

        before = table_rows(url)
        engine = target.engine
        event.listen(engine, "before_cursor_execute", inject, retval=True)
        try:
            if steps[failing]:
                with contextlib.suppress(CrmconfError):
                    api.apply(plan, target)
                assert _exported(target) == applied
                return
            with pytest.raises(TargetError):
                api.apply(plan, target)
        finally:
            event.remove(engine, "before_cursor_execute", inject)
        assert table_rows(url) == before
        api.apply(plan, target)
        assert _exported(target) == applied
