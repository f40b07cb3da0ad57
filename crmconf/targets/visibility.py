"""What a target cannot read, and how planning deals with it.

Some CRM APIs cannot see a kind at all (24SevenOffice has no operation for sales
stages) or one field of a kind (group descriptions). Comparing such a kind would
either plan to create every item on every run (it looks empty) or hide drift (if
assumed to match). crmconf does neither: what the target cannot see is left out of
the comparison and listed as checks for a person, on every plan. A plan is then
empty once everything the target *can* see matches, and the checks stay visible.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from crmconf.errors import Problem
from crmconf.kinds import ALL_KINDS
from crmconf.model.configuration import Configuration
from crmconf.model.kind import Kind, Record

_BY_HAND = "check by hand (every plan repeats this),"


@dataclass(frozen=True)
class Unreadable:
    """Kinds a target cannot read at all, and fields it cannot read of the kinds it reads."""

    kinds: frozenset[str] = frozenset()
    fields: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Check:
    """One thing a person checks by hand: a kind the target cannot read, or one field of it."""

    kind: str
    field: str | None
    digest: str
    """SHA-256 of exactly what is to be checked, so a confirmation of it (crmconf confirm)
    holds only while the configuration says the same."""
    problem: Problem


def without_unreadable(
    config: Configuration, unreadable: Unreadable, target: str
) -> tuple[Configuration, tuple[Problem, ...]]:
    """The configuration limited to what `target` can read, and the checks left to a person."""
    visible, checks = with_checks(config, unreadable, target)
    return visible, tuple(check.problem for check in checks)


def with_checks(
    config: Configuration, unreadable: Unreadable, target: str
) -> tuple[Configuration, tuple[Check, ...]]:
    """As `without_unreadable`, each check with what it is about and its digest."""
    if not unreadable.kinds and not unreadable.fields:
        return config, ()
    checks: list[Check] = []
    sections: dict[str, tuple[Record, ...]] = {}
    for kind in ALL_KINDS:  # checks in the kinds' order, as plans list changes
        name = kind.name
        if name not in config.sections:
            continue
        records = config.sections[name]
        hidden = unreadable.fields.get(name, frozenset())
        if name in unreadable.kinds:
            removals = config.removals.get(name, ())
            problem = _kind_check(kind, records, removals, target)
            checks.append(Check(name, None, _digest(records, removals, None), problem))
        elif hidden:
            checks.extend(
                Check(name, field_name, _digest(records, (), field_name), problem)
                for field_name, problem in _field_check(kind, records, hidden, target)
            )
            sections[name] = tuple(_without(record, hidden) for record in records)
        else:
            sections[name] = records
    visible = {name: r for name, r in config.removals.items() if name not in unreadable.kinds}
    return replace(config, sections=sections, removals=visible), tuple(checks)


def _without(record: Record, hidden: frozenset[str]) -> Record:
    fields = {key: value for key, value in record.fields.items() if key not in hidden}
    return replace(record, fields=fields)


def _kind_check(
    kind: Kind, records: tuple[Record, ...], removals: tuple[Record, ...], target: str
) -> Problem:
    subject = "it" if kind.is_switch else kind.plural
    lines = [f"{kind.name} not compared: {target} cannot read or change {subject}; {_BY_HAND}"]
    if kind.is_switch:
        state = "on" if records and records[0].fields["enabled"] else "off"
        lines.append(f"at {kind.ui_path}, that '{kind.section[-1]}' is {state}.")
    elif not records and not removals:
        lines.append(f"at {kind.ui_path}, that there are none.")
    elif records:
        order = ", in this order" if kind.ordered else ""
        lines.append(f"at {kind.ui_path}, that there are exactly these{order}:")
        lines.extend(
            f"  {number}. {_described(kind, record)}" for number, record in enumerate(records, 1)
        )
    if removals:
        if records:
            lines.append("and that these are deleted:")
        else:
            lines.append(f"at {kind.ui_path}, that these are deleted:")
        lines.extend(f"  - {_removal(kind, removal)}" for removal in removals)
    return Problem("\n    ".join(lines), records[0].location if records else None)


def _digest(records: tuple[Record, ...], removals: tuple[Record, ...], field: str | None) -> str:
    """What a check is about, as a digest: the items (in order), their fields (or the one
    field), and the deletes."""
    document = {
        "items": [
            [record.name, dict(record.fields) if field is None else record.fields.get(field)]
            for record in records
        ],
        "removed": [[removal.name, dict(removal.fields)] for removal in removals],
    }
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _field_check(
    kind: Kind, records: tuple[Record, ...], hidden: frozenset[str], target: str
) -> list[tuple[str, Problem]]:
    checks = []
    for field_name in sorted(hidden):
        label = kind.labels.get(field_name, field_name)
        given = [record for record in records if record.fields.get(field_name) not in (None, "")]
        if not given:
            continue  # nothing written: nothing to check by hand
        lines = [
            f"{kind.name}: {field_name} not compared: {target} cannot read it; {_BY_HAND}",
            f"at {kind.ui_path}, that {label} is:",
            *(
                f"  - {record.name}: {_shown(kind, field_name, record.fields[field_name])}"
                for record in given
            ),
            f"and empty on every other {kind.singular}.",
        ]
        checks.append((field_name, Problem("\n    ".join(lines), given[0].location)))
    return checks


def _described(kind: Kind, record: Record) -> str:
    details = "; ".join(
        f"{kind.labels.get(name, name)}: {_shown(kind, name, value)}"
        for name, value in record.fields.items()
        if name not in ("parent", "position")
    )
    return f"{record.name} ({details})" if details else record.name


def _removal(kind: Kind, removal: Record) -> str:
    if removal.fields.get("move_to") is not None:
        return f"{removal.name}, after moving what uses it to {removal.fields['move_to']}"
    if removal.fields.get("clear"):
        return f"{removal.name}, after clearing it wherever it is used"
    return removal.name


def _shown(kind: Kind, name: str, value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value) or "–"
    if value is None or value == "":
        return "–"
    label = str(kind.value_labels.get(name, {}).get(value, value))
    unit = kind.units.get(name)
    return f"{label} {unit}" if unit else label
