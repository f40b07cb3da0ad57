"""Diff a configuration against a target's state into an ordered plan — a pure function.

Items are matched by identity (case- and space-insensitive name, then
`renamed_from`), in time linear in the number of items. Creates and updates run in
dependency order (a rejection reason before the stage naming it, a parent group
before its children); deletes run last, in reverse.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from crmconf.errors import ConfigError, Problem, RefusedPlanError
from crmconf.kinds import ALL_KINDS, KINDS_BY_NAME
from crmconf.model.configuration import Configuration
from crmconf.model.kind import Kind, Record
from crmconf.model.names import identity
from crmconf.model.state import ExistingItem, State, fingerprint, refuse_duplicates
from crmconf.planning.changes import Action, Capability, Change, ChangesByKind, Plan, Policy
from crmconf.planning.runbook import manual_step


def kinds_to_read(config: Configuration) -> list[Kind]:
    """The kinds a plan needs from the target: managed ones, those they reference, and
    those referencing them (an unmanaged stage may still name a reason being deleted)."""
    managed = set(config.sections)
    names = set(managed)
    for kind in ALL_KINDS:
        targets = {reference.kind for reference in kind.references}
        if kind.name in managed:
            names.update(targets)
        if targets & managed:
            names.add(kind.name)
    return [kind for kind in ALL_KINDS if kind.name in names]


@dataclass
class _KindDiff:
    kind: Kind
    existing: tuple[ExistingItem, ...]
    keys: list[str]
    """The identity of each record, in the configuration's order (computed once)."""
    matches: list[tuple[Record, ExistingItem | None]]
    deleted: list[ExistingItem]
    renames: dict[str, str]
    """Old identity → new name, to follow references to renamed items."""


def plan(
    config: Configuration,
    state: State,
    capabilities: ChangesByKind | None = None,
    *,
    policy: Policy | None = None,
) -> Plan:
    """The changes that make `state` equal to `config` for every managed kind.

    Changes the target cannot make itself (per its `capabilities`) become manual
    steps, kept in the plan's order so a person can follow them.
    With `policy.refuse_orphans` off, for plans that are only shown (drift reports),
    an item the CRM still uses and the configuration lacks is drift to report, not an
    error; such a plan is never applied (crmconf.planning.safety).
    """
    policy = policy if policy is not None else Policy(limits=config.limits)
    diffs = {
        kind.name: _match(kind, config.records(kind), state.of(kind))
        for kind in ALL_KINDS
        if config.manages(kind)
    }
    unmanaged: dict[str, tuple[ExistingItem, ...]] = {}
    for pruned in diffs.values():
        if not config.prunes(pruned.kind):
            # Only what `removed:` names is deleted; the rest is left alone, and listed.
            removed: list[ExistingItem] = []
            left: list[ExistingItem] = []
            for item in pruned.deleted:
                named = config.removal(pruned.kind, item.key) is not None
                (removed if named else left).append(item)
            if left:
                unmanaged[pruned.kind.name] = tuple(left)
            pruned.deleted = removed
    _check_references(config, state, diffs)
    if policy.refuse_orphans:
        _check_deletes(config, state, diffs)
    creates_updates: list[Change] = []
    deletes: list[Change] = []
    final_order: dict[str, tuple[str, ...]] = {}
    for kind in ALL_KINDS:
        diff = diffs.get(kind.name)
        if diff is None:
            continue
        kind_changes = _changes(diff, diffs)
        deleted = diff.deleted
        if kind.tree:
            records = zip(diff.keys, config.records(kind), strict=True)
            desired = _depths({key: record.fields.get("parent") for key, record in records})
            kind_changes.sort(key=lambda keyed: desired.get(keyed[0], 0))
            current = _depths({i.key: i.fields.get("parent") for i in state.of(kind)})
            deleted = sorted(deleted, key=lambda item: -current.get(item.key, 0))
        creates_updates.extend(change for _key, change in kind_changes)
        doomed = [_delete(kind, item, config) for item in deleted]
        deletes[:0] = doomed  # reverse kind order: dependants go first
        if kind.ordered and (kind_changes or doomed):
            final_order[kind.name] = tuple(record.name for record in config.records(kind))
    existing_counts = {name: len(diff.existing) for name, diff in diffs.items()}
    changes = creates_updates + deletes
    if capabilities is not None:
        changes = [_with_manual_step(change, capabilities, state.user_names) for change in changes]
    return Plan(
        tuple(changes),
        final_order,
        config.warnings,
        existing_counts,
        tuple(sorted(state.items)),
        config.digest,
        fingerprint(state),
        unmanaged,
        policy=policy,
    )


_NEEDS = {action: Capability(action.value) for action in Action}
"""The capability a target needs to make each kind of change itself."""


def _with_manual_step(
    change: Change, capabilities: ChangesByKind, user_names: Mapping[str, str]
) -> Change:
    can = capabilities.get(change.kind, frozenset())
    if _NEEDS[change.action] in can:
        return change
    kind = KINDS_BY_NAME[change.kind]
    step = manual_step(kind, change, Capability.MOVE in can, user_names)
    return replace(change, manual_step=step)


def _match(
    kind: Kind, records: tuple[Record, ...], existing: tuple[ExistingItem, ...]
) -> _KindDiff:
    # Each identity is computed once: it is most of the cost of matching.
    existing_keys = [item.key for item in existing]
    by_key = dict(zip(existing_keys, existing, strict=True))
    if len(by_key) < len(existing):
        refuse_duplicates(kind, existing)
    keys = [record.key for record in records]
    wanted = set(keys)
    claimed: set[str] = set()
    matches: list[tuple[Record, ExistingItem | None]] = []
    renames: dict[str, str] = {}
    for record, key in zip(records, keys, strict=True):
        found = by_key.get(key)
        found_key = key
        if found is None:
            for old in record.renamed_from:
                old_key = identity(old)
                candidate = by_key.get(old_key)
                if candidate is not None and old_key not in wanted:
                    found, found_key = candidate, old_key
                    renames[old_key] = record.name
                    break
        if found is not None:
            claimed.add(found_key)
        matches.append((record, found))
    deleted = [
        item for item, key in zip(existing, existing_keys, strict=True) if key not in claimed
    ]
    return _KindDiff(kind, existing, keys, matches, deleted, renames)


def _follow(value: Any, renames: Mapping[str, str]) -> Any:
    """A reference held by an existing item, as it reads after renames in the plan."""
    if value is None or not renames:
        return value
    return renames.get(identity(value), value)


def _comparable(value: Any) -> Any:
    return identity(value) if isinstance(value, str) else value


def _changes(diff: _KindDiff, diffs: Mapping[str, _KindDiff]) -> list[tuple[str, Change]]:
    """The creates and updates of a kind in the configuration's order, each with the
    identity of its record."""
    kind = diff.kind
    # Per reference field, the renames of the kind it names (empty if not managed here).
    renames = {
        reference.field: diffs[reference.kind].renames if reference.kind in diffs else {}
        for reference in kind.references
    }
    references = frozenset(renames)
    follow = any(renames.values())
    moved = _moved_in_order(diff) if kind.ordered else {}
    changes: list[tuple[str, Change]] = []
    for index, (key, (record, item)) in enumerate(zip(diff.keys, diff.matches, strict=True)):
        if item is None:
            after: dict[str, Any] = {"name": record.name, **record.fields}
            if kind.ordered:
                after["position"] = index + 1
            if record.protect:
                after["protect"] = True
            changes.append((key, Change(kind.name, Action.CREATE, None, after)))
            continue
        moved_from = moved.get(item.key) if moved else None
        if moved_from is None and not follow and _as_declared(record, item, references):
            continue
        after = {"name": record.name, **record.fields}
        # Surrounding spaces cannot be written in a configuration (names are trimmed),
        # so they are not a difference either.
        before: dict[str, Any] = {"name": item.name.strip(), **item.fields}
        for field, renamed in renames.items():
            before[field] = _follow(before.get(field), renamed)
        if moved_from is not None:
            before["position"], after["position"] = moved_from, index + 1
        if item.protected is not None and (item.protected or record.protect):
            before["protect"], after["protect"] = item.protected, record.protect
        changed = _changed_fields(before, after, references)
        if changed:
            update = Change(kind.name, Action.UPDATE, before, after, changed, item.id, item.usage)
            changes.append((key, update))
    return changes


def _as_declared(record: Record, item: ExistingItem, references: frozenset[str]) -> bool:
    """Whether an item plainly is as its record says (when no rename is to be followed).

    Most items are: this tells so without building both sides of an update. False only
    means "compare in full" (`_changed_fields`).
    """
    return (
        item.fields == record.fields
        and item.name.strip() == record.name
        and not item.protected
        and not record.protect
        # A reference the item lacks reads as None in the full comparison.
        and all(field in item.fields for field in references)
    )


def _changed_fields(
    before: Mapping[str, Any], after: Mapping[str, Any], references: frozenset[str]
) -> tuple[str, ...]:
    """Top-level fields that differ; references compare by identity, as the CRM links them."""
    left, right = before, after
    if references:
        left = {k: _comparable(v) if k in references else v for k, v in before.items()}
        right = {k: _comparable(v) if k in references else v for k, v in after.items()}
    if left == right:
        return ()
    return tuple(
        field for field, value in right.items() if field not in left or _differs(left[field], value)
    )


_SCALARS = (str, int, bool, float, type(None))


def _differs(old: Any, new: Any) -> bool:
    """Whether one field's value changed.

    Records are flat, so most fields are scalars of the same type and compare
    directly. What is left — a list such as `members` that differs, a float, values of
    different types — is compared by DeepDiff, order-insensitively and strict about
    types (1 is not True), and imported only then: it is heavy, and rarely needed.
    """
    if _plainly_equal(old, new):
        return False
    if type(old) is type(new) and type(old) in (str, int, bool):
        return True
    from deepdiff import DeepDiff

    return bool(DeepDiff(old, new, ignore_order=True, view="tree"))


def _plainly_equal(old: Any, new: Any) -> bool:
    """Equal, with the same plain types all the way down (so DeepDiff would agree)."""
    kind = type(old)
    if kind is not type(new):
        return False
    if kind is list or kind is tuple:
        return len(old) == len(new) and all(map(_plainly_equal, old, new))
    if kind is dict:
        return old.keys() == new.keys() and all(_plainly_equal(v, new[k]) for k, v in old.items())
    return kind in _SCALARS and bool(old == new)


def _moved_in_order(diff: _KindDiff) -> dict[str, int]:
    """Items whose place among the kept items changed, with their old (1-based) position.

    Inserting or deleting an item shifts others' positions without changing their
    order; only items off one longest increasing run of new positions really moved.
    """
    new_index = {item.key: index for index, (_r, item) in enumerate(diff.matches) if item}
    kept_in_old_order = [
        (position, item) for position, item in enumerate(diff.existing) if item.key in new_index
    ]
    staying = _longest_increasing([new_index[item.key] for _p, item in kept_in_old_order])
    return {
        item.key: position + 1
        for position, item in kept_in_old_order
        if new_index[item.key] not in staying
    }


def _longest_increasing(sequence: list[int]) -> set[int]:
    """Values of one longest strictly increasing subsequence (patience sorting)."""
    tails: list[int] = []
    tail_index: list[int] = []
    parent = [-1] * len(sequence)
    for i, value in enumerate(sequence):
        slot = bisect.bisect_left(tails, value)
        if slot == len(tails):
            tails.append(value)
            tail_index.append(i)
        else:
            tails[slot] = value
            tail_index[slot] = i
        parent[i] = tail_index[slot - 1] if slot else -1
    kept: set[int] = set()
    i = tail_index[-1] if tail_index else -1
    while i >= 0:
        kept.add(sequence[i])
        i = parent[i]
    return kept


def _delete(kind: Kind, item: ExistingItem, config: Configuration) -> Change:
    before = {"name": item.name, **item.fields}
    removal = config.removal(kind, item.key)
    migration: dict[str, Any] | None = None
    if removal is not None and removal.fields["move_to"] is not None:
        migration = {"move_to": removal.fields["move_to"]}
    elif removal is not None and removal.fields["clear"]:
        migration = {"clear": True}
    return Change(kind.name, Action.DELETE, before, None, (), item.id, item.usage, migration)


def _depths(parents: Mapping[str, str | None]) -> dict[str, int]:
    """Depth of every item of a tree (identity → parent's name), each walked once: O(n).

    A parent outside the tree counts as the top; a loop (only a corrupt target could
    hold one) stops at the point it closes.
    """
    depths: dict[str, int] = {}
    for start in parents:
        path: dict[str, None] = {}  # ordered, and O(1) to test for a loop
        key: str | None = start
        while key is not None and key not in depths and key in parents and key not in path:
            path[key] = None
            parent = parents[key]
            key = identity(parent) if parent is not None else None
        depth = depths.get(key, -1) if key is not None else -1
        for item in reversed(path):
            depth += 1
            depths[item] = depth
    return depths


def _check_references(config: Configuration, state: State, diffs: Mapping[str, _KindDiff]) -> None:
    """References into unmanaged kinds must exist in the target; members must be users."""
    problems: list[Problem] = []
    for kind in ALL_KINDS:
        if not config.manages(kind):
            continue
        for reference in kind.references:
            target = KINDS_BY_NAME[reference.kind]
            if config.manages(target):
                continue
            names = {item.key for item in state.of(target)}
            for record in config.records(kind):
                value = record.fields.get(reference.field)
                if value is not None and identity(value) not in names:
                    problems.append(
                        Problem(
                            f"{kind.singular} {record.name!r} names {target.singular} {value!r}, "
                            f"which the target does not have ({target.name} is not managed here)",
                            record.location,
                            f"add {target.name} to the configuration or correct the name",
                        )
                    )
        if kind.users_field is not None and state.users is not None:
            for record in config.records(kind):
                unknown = [m for m in record.fields[kind.users_field] if m not in state.users]
                if unknown:
                    problems.append(
                        Problem(
                            f"{kind.singular} {record.name!r}: no such user in the target: "
                            f"{', '.join(unknown)}",
                            record.location,
                            "members are users of the CRM by login; check the spelling",
                        )
                    )
    if problems:
        raise ConfigError(problems)


def _check_deletes(config: Configuration, state: State, diffs: Mapping[str, _KindDiff]) -> None:
    """No delete may leave customer data, or a setting kept in the CRM, pointing at nothing."""
    protected: list[str] = []
    refusals: list[str] = []
    for diff in diffs.values():
        for item in diff.deleted:
            if item.protected:
                protected.append(
                    f"{diff.kind.singular} {item.name!r} ({diff.kind.name}) is protected; "
                    "to delete it, first apply it with 'protect: false', then remove it"
                )
                continue
            removal = config.removal(diff.kind, item.key)
            migrated = removal is not None and (
                removal.fields["move_to"] is not None or removal.fields["clear"]
            )
            if item.usage.total and not migrated:
                refusals.append(
                    f"{diff.kind.singular} {item.name!r} ({diff.kind.name}) is used by "
                    f"{item.usage}; keep it, or say where its data goes:\n"
                    + removal_hint(diff.kind, item.name)
                )
    for kind in ALL_KINDS:
        if config.manages(kind):
            continue
        for reference in kind.references:
            referenced = diffs.get(reference.kind)
            if referenced is None:
                continue
            doomed = {item.key: item for item in referenced.deleted}
            for item in state.of(kind):
                value = item.fields.get(reference.field)
                if value is not None and identity(value) in doomed:
                    gone = referenced.kind
                    refusals.append(
                        f"{gone.singular} {value!r} ({gone.name}) is named by "
                        f"{kind.singular} {item.name!r}, and {kind.name} is not managed here"
                    )
    # A protected item may be unused: its refusal is about protection, not orphaned data.
    reasons = []
    if protected:
        reasons.append(
            "refusing to delete protected items:\n  - "
            + "\n  - ".join(protected)
            + "\nprotection is stored in the CRM: removing the entry from the file does not lift it"
        )
    if refusals:
        reasons.append(
            "refusing to delete what the CRM still uses:\n  - "
            + "\n  - ".join(refusals)
            + "\nno data is ever orphaned: keep these items, or declare where their data goes"
        )
    if reasons:
        raise RefusedPlanError("\n".join(reasons))


def removal_hint(kind: Kind, name: str) -> str:
    """The `removed:` entry a user can paste into the configuration."""
    indent = "      "
    lines = ["removed:"]
    for depth, part in enumerate(kind.section):
        lines.append("  " * (depth + 1) + f"{part}:")
    entry = f"{{{kind.key_field}: {name}"
    if kind.migration is not None:
        entry += f", {kind.migration.move_field}: <another {kind.singular}>"
    lines.append("  " * (len(kind.section) + 1) + f"- {entry}}}")
    return "\n".join(indent + line for line in lines)
