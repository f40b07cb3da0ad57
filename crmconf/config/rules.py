"""Checks across items that a per-file schema cannot express: identity, renames, references,
and the rules: built-in lint and the firm's own (crmconf.config.firm_rules)."""

from __future__ import annotations

from collections.abc import Mapping

from crmconf.config.firm_rules import RuleSet, evaluate
from crmconf.errors import ConfigError, Problem
from crmconf.kinds import ALL_KINDS, KINDS_BY_NAME
from crmconf.model.kind import Record
from crmconf.model.names import identity


def check_configuration(
    sections: Mapping[str, tuple[Record, ...]],
    removals: Mapping[str, tuple[Record, ...]],
    rules: RuleSet | None = None,
) -> list[Problem]:
    """Raise on every error across items and every error rule violated; return the warnings
    (built-in lint and warning rules), less the rules switched off."""
    problems: list[Problem] = []
    for name, records in sections.items():
        problems.extend(_identity_problems(KINDS_BY_NAME[name].singular, records))
    problems.extend(_reference_problems(sections))
    for name, records in removals.items():
        problems.extend(_removal_problems(name, records, sections))
    if problems:
        raise ConfigError(problems)
    warnings: list[Problem] = []
    for kind in ALL_KINDS:
        if kind.lint is not None and kind.name in sections:
            warnings.extend(kind.lint(sections[kind.name]))
    return evaluate(rules or RuleSet(), sections, warnings)


def _identity_problems(singular: str, records: tuple[Record, ...]) -> list[Problem]:
    problems: list[Problem] = []
    current: dict[str, Record] = {}
    for record in records:
        seen = current.get(record.key)
        if seen is not None:
            same = "" if seen.name == record.name else f" ({seen.name!r} and {record.name!r})"
            problems.append(
                Problem(
                    f"{singular} {record.name!r} is defined twice{same}; also at {seen.location}",
                    record.location,
                    "names are compared ignoring case, repeated spaces, how accents are "
                    "encoded and invisible characters: keep one",
                )
            )
        else:
            current[record.key] = record
    claimed: dict[str, Record] = {}
    for record in records:
        for old in record.renamed_from:
            old_key = identity(old)
            if old_key == record.key:
                continue
            if old_key in current:
                problems.append(
                    Problem(
                        f"{singular} {record.name!r} is renamed from {old!r}, "
                        "which is still in the configuration",
                        record.location,
                        f"remove {old!r} from the list, or from renamed_from",
                    )
                )
            elif old_key in claimed and claimed[old_key] is not record:
                problems.append(
                    Problem(
                        f"{singular} {old!r} is renamed to both {claimed[old_key].name!r} "
                        f"and {record.name!r}",
                        record.location,
                        "an item can be renamed to one name only",
                    )
                )
            else:
                claimed[old_key] = record
    return problems


def _reference_problems(sections: Mapping[str, tuple[Record, ...]]) -> list[Problem]:
    problems: list[Problem] = []
    for kind in ALL_KINDS:
        for reference in kind.references:
            if kind.name not in sections or reference.kind not in sections:
                continue  # references into unmanaged kinds are checked against the target
            names = {record.key for record in sections[reference.kind]}
            target = KINDS_BY_NAME[reference.kind]
            for record in sections[kind.name]:
                value = record.fields.get(reference.field)
                if value is not None and identity(value) not in names:
                    problems.append(
                        Problem(
                            f"{kind.singular} {record.name!r} names {target.singular} "
                            f"{value!r}, which is not in {target.name}",
                            record.location,
                            f"add {value!r} to {target.name} or correct the name",
                        )
                    )
    return problems


def _removal_problems(
    name: str, removals: tuple[Record, ...], sections: Mapping[str, tuple[Record, ...]]
) -> list[Problem]:
    """A `removed:` entry must name a deleted item and a destination that stays."""
    kind = KINDS_BY_NAME[name]
    if name not in sections:
        return [
            Problem(
                f"removed.{name} is written but {name} is not managed",
                removals[0].location if removals else None,
                f"add the {name} section: only a managed section deletes items",
            )
        ]
    kept = {record.key: record for record in sections[name]}
    renamed = {identity(old): record for record in sections[name] for old in record.renamed_from}
    problems = _identity_problems(f"removed {kind.singular}", removals)
    migration = kind.migration
    for removal in removals:
        if removal.key in kept:
            problems.append(
                Problem(
                    f"{kind.singular} {removal.name!r} is both kept (at "
                    f"{kept[removal.key].location}) and removed",
                    removal.location,
                    "remove it from one of the two lists",
                )
            )
        elif removal.key in renamed:  # the rename won, silently, and the entry did nothing
            new = renamed[removal.key]
            problems.append(
                Problem(
                    f"{kind.singular} {removal.name!r} is both renamed to {new.name!r} (at "
                    f"{new.location}) and removed",
                    removal.location,
                    f"keep it as {new.name!r} or remove it: drop the renamed_from, or the "
                    "removed: entry",
                )
            )
        move_to, clear = removal.fields["move_to"], removal.fields["clear"]
        if move_to is not None and clear and migration is not None:
            problems.append(
                Problem(
                    f"removed {kind.singular} {removal.name!r} both moves its data to "
                    f"{move_to!r} and sets {migration.clear_field}",
                    removal.location,
                    f"choose {migration.move_field} or {migration.clear_field}",
                )
            )
        if move_to is not None and identity(move_to) not in kept:
            problems.append(
                Problem(
                    f"removed {kind.singular} {removal.name!r} moves its data to {move_to!r}, "
                    f"which is not in {name}",
                    removal.location,
                    f"the destination must stay: add {move_to!r} to {name} or correct the name",
                )
            )
    return problems
