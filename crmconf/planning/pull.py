"""`crmconf pull`: the differences between a target and a configuration, as changes to
the configuration's files.

A plan says what apply would change in the CRM; pull reads the same plan the other way
round. A create (the configuration has an item the CRM lacks) becomes taking the entry
out, a delete (the CRM has an item the configuration lacks) adding one, an update
setting the fields to what the CRM holds. Each item's difference is one proposal, which
a person may accept or not; the accepted ones become text edits (crmconf.config.edits)
made where the item is written: the base file or the overlay that wrote the value.

What the other direction would make wrong is left alone, and said: a rename or a
removal the configuration declares and that was not applied yet (pulling would undo
the decision), items the target cannot read, items `prune: false` leaves unmanaged, a
changed pipeline order or group parent (moving text between lists is done by hand).

A rename in the CRM is told from a removal and an addition by the item's id: the target
remembers which name crmconf last gave each id (`Target.applied_names`); without such a
record the two are offered apart, and the proposal says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from crmconf.config.edits import Entry, SourceFile
from crmconf.config.export import item_entry
from crmconf.config.selection import Selection, item_paths
from crmconf.kinds import ALL_KINDS, KINDS_BY_NAME
from crmconf.model.configuration import Configuration
from crmconf.model.kind import Kind
from crmconf.model.names import NAME_MAX_LENGTH, Name, identity
from crmconf.model.state import ExistingItem, State
from crmconf.planning.changes import Action, Change, Plan
from crmconf.planning.render.text import shown, without_bidi_controls

_NOT_WRITTEN = frozenset({"position", "parent", "protect"})
"""Differences pull never writes: order and nesting (moved by hand) and `protect`, which
is crmconf's own bookkeeping in the target, not a setting someone changed there."""


class Step(StrEnum):
    UPDATE = "update"
    """Set fields (and the spelling of the name) to the CRM's."""
    RENAME = "rename"
    """The CRM renamed the item: new name, the old one under `renamed_from`."""
    REMOVE = "remove"
    """The CRM lacks the item: take its entry out."""
    ADD = "add"
    """Only the CRM has it: add an entry."""


@dataclass(frozen=True)
class Proposal:
    """One item's difference, as a change to the configuration's files."""

    kind: Kind
    step: Step
    name: str
    """The item's name in the configuration (an added one: in the CRM)."""
    fields: Mapping[str, Any] = field(default_factory=dict)
    """UPDATE and RENAME: the fields to set, with the CRM's values."""
    before: Mapping[str, Any] = field(default_factory=dict)
    """UPDATE and RENAME: what the configuration says now, for showing."""
    new_name: str | None = None
    """RENAME: the CRM's name; UPDATE: the CRM's spelling of the same name."""
    item: ExistingItem | None = None
    """ADD: the item as the CRM holds it."""
    children: tuple[ExistingItem, ...] = ()
    """ADD, of a tree: the new item's new subitems, nested in its entry."""
    below: tuple[str, ...] = ()
    """REMOVE, of a tree: the subitems taken out with the item's entry."""
    requires: tuple[tuple[str, str], ...] = ()
    """The proposals (by key) this one cannot be written without: those a reference it
    writes, or takes away, makes necessary (a stage and the rejection reason it names)."""
    goes_with: tuple[str, ...] = ()
    """How the required proposals are shown."""
    note: str = ""
    where: str = ""
    """The file and line it is written at (ADD: the list it goes into)."""
    references: tuple[tuple[str, str, str], ...] = ()
    """RENAME: the fields of other items that name it (kind, item, field), rewritten
    with it: the CRM shows them with the new name, so they are part of the rename."""

    @property
    def key(self) -> tuple[str, str]:
        return self.kind.name, identity(self.name)

    @property
    def covers(self) -> tuple[tuple[str, str], ...]:
        """The items whose plan changes it takes away."""
        keys = [self.key]
        if self.new_name is not None:
            keys.append((self.kind.name, identity(self.new_name)))
        keys.extend((self.kind.name, child.key) for child in self.children)
        keys.extend((self.kind.name, identity(name)) for name in self.below)
        return tuple(keys)

    def describe(self) -> str:
        if self.kind.is_switch:
            label = f"switch {self.kind.name}"
        else:
            label = f"{self.kind.singular} {without_bidi_controls(shown(self.name))}"
        where = f"  ({self.where})" if self.where else ""
        if self.step is Step.ADD:
            text = f"  + {label}: only in the CRM; add it{where}"
            if self.children:
                text += f", with {len(self.children)} subitem(s)"
        elif self.step is Step.REMOVE:
            text = f"  - {label}: not in the CRM; take it out{where}"
            if self.below:
                text += f", with {len(self.below)} subitem(s)"
        else:
            if self.step is Step.RENAME:
                assert self.new_name is not None
                label += f" → {without_bidi_controls(shown(self.new_name))}"
                text = f"  ~ {label}: renamed in the CRM{where}"
            else:
                if self.new_name is not None:
                    label += f" → {without_bidi_controls(shown(self.new_name))}"
                text = f"  ~ {label}{where}"
            for name, value in self.fields.items():
                old = shown(self.before.get(name))
                text += f"\n      {name}: {without_bidi_controls(old)} → "
                text += without_bidi_controls(shown(value))
        for kind_name, name, field_name in self.references:
            named = f"{KINDS_BY_NAME[kind_name].singular} {without_bidi_controls(shown(name))}"
            text += (
                f"\n      and {named}: {field_name} → {without_bidi_controls(shown(self.new_name))}"
            )
        if self.note:
            text += f"\n      ({self.note})"
        if self.goes_with:
            text += f"\n      (goes with the change of {', '.join(self.goes_with)})"
        return text

    @property
    def label(self) -> str:
        return f"{self.kind.singular} {without_bidi_controls(shown(self.name))}"

    @property
    def rewrites(self) -> dict[tuple[str, str], frozenset[str]]:
        """Per item of another kind, the fields this proposal rewrites in its entry."""
        found: dict[tuple[str, str], frozenset[str]] = {}
        for kind_name, name, field_name in self.references:
            key = (kind_name, identity(name))
            found[key] = found.get(key, frozenset()) | {field_name}
        return found


@dataclass(frozen=True)
class Note:
    """A difference pull does not write, and why."""

    kind: str
    name: str | None
    """The item's name; None for a note about a whole kind."""
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Pull:
    """What pulling a target into a configuration would change."""

    proposals: tuple[Proposal, ...]
    left_alone: tuple[Note, ...]
    """Differences pull does not write, each with why."""
    leftover: Mapping[tuple[str, str], frozenset[str]] = field(default_factory=dict)
    """Per item (kind, identity), the fields of its difference left alone: its parent; per
    kind (kind, ""), `position` when the order of its list differs."""

    def selected(self, selection: Selection, config: Configuration, state: State) -> Pull:
        """The proposals and notes about items `--only` / `--exclude` keep: an item is kept
        when its name in the configuration or in the CRM is (a rename: either)."""
        paths: dict[str, dict[str, str]] = {}
        for kind in ALL_KINDS:
            records = ((r.name, r.fields.get("parent")) for r in config.records(kind))
            existing = ((i.name, i.fields.get("parent")) for i in state.of(kind))
            paths[kind.name] = {**item_paths(kind, existing), **item_paths(kind, records)}

        excluding = replace(selection, only=())

        def keeps(kind: Kind, *names: str | None) -> bool:
            """Kept when --only names it by either name, and --exclude by neither: a
            rename rewrites the old name's entry, which an exclusion of it keeps."""
            if kind.is_switch:
                return True
            known = paths.get(kind.name, {})
            found = [known.get(identity(name), name) for name in names if name is not None]
            return any(selection.keeps(kind, path) for path in found) and all(
                excluding.keeps(kind, path) for path in found
            )

        kept = tuple(p for p in self.proposals if keeps(p.kind, p.name, p.new_name))
        notes = tuple(
            note
            for note in self.left_alone
            if note.name is None or keeps(KINDS_BY_NAME[note.kind], note.name, None)
        )
        return replace(self, proposals=kept, left_alone=notes)


def proposals(
    plan: Plan,
    state: State,
    config: Configuration,
    applied_names: Mapping[str, Mapping[str, str]],
    files: Sequence[SourceFile],
) -> Pull:
    """The proposals that make the configuration say what the target holds."""
    by_kind: dict[str, list[Change]] = {}
    for change in plan.changes:
        by_kind.setdefault(change.kind, []).append(change)
    found: list[Proposal] = []
    left: list[Note] = []
    leftover: dict[tuple[str, str], frozenset[str]] = {}
    for kind_name, changes in by_kind.items():
        kind = KINDS_BY_NAME[kind_name]
        records = {record.key: record for record in config.records(kind)}
        creates = {identity(c.name): c for c in changes if c.action is Action.CREATE}
        renamed: dict[str, ExistingItem] = {}
        items = {str(item.id): item for item in state.of(kind)}
        for change in changes:
            if change.action is not Action.DELETE or change.migration is not None:
                continue
            old = applied_names.get(kind_name, {}).get(str(change.id))
            if (
                old is not None
                and identity(old) in creates
                and identity(old) != identity(change.name)
            ):
                renamed[identity(old)] = items[str(change.id)]
        removals = _tree_removals(kind, config, set(creates) - set(renamed)) if kind.tree else {}
        new_keys = {
            identity(c.name) for c in changes if c.action is Action.DELETE and c.migration is None
        } - {item.key for item in renamed.values()}
        for change in changes:
            key = identity(change.name)
            where = _where(files, kind, change.name)
            if kind.is_switch:
                assert change.before is not None
                enabled = change.before.get("enabled")
                found.append(
                    Proposal(
                        kind, Step.UPDATE, change.name, {"enabled": enabled}, change.after or {}
                    )
                )
                continue
            if change.action is Action.CREATE:
                item = renamed.get(key)
                if item is not None:
                    found.append(_rename(kind, change, item, where, leftover))
                    continue
                shape, names = removals.get(key, ("top", ()))
                if shape == "folded":
                    continue  # taken out with an ancestor's entry
                if shape == "blocked":
                    left.append(
                        Note(
                            kind_name,
                            change.name,
                            f"{kind.singular} {shown(change.name)}: not in the CRM, but its "
                            f"subitems {', '.join(map(shown, names))} are: move them out of its "
                            "entry by hand, then pull again",
                        )
                    )
                    continue
                below = names
                note = "" if applied_names.get(kind_name) else _NO_RECORD
                found.append(
                    Proposal(
                        kind, Step.REMOVE, change.name, note=note, where=where, below=tuple(below)
                    )
                )
            elif change.action is Action.DELETE:
                if change.migration is not None:
                    text = (
                        f"{kind.singular} {shown(change.name)}: the configuration removes it "
                        "under removed:, and that was not applied yet — apply it, or take the "
                        "entry out of removed:"
                    )
                    left.append(Note(kind_name, change.name, text))
                    continue
                if identity(change.name) not in new_keys:
                    continue  # the new name of a rename
                item = items[str(change.id)]
                dropped = [at for file in files if (at := file.drops(kind, item.name))]
                if dropped:
                    text = (
                        f"{kind.singular} {shown(item.name)}: {dropped[0]} drops it "
                        "(drop:), and the CRM has it: take it out of drop: by hand if this "
                        "environment should have it"
                    )
                    left.append(Note(kind_name, item.name, text))
                    continue
                parent = item.fields.get("parent") if kind.tree else None
                if parent is not None and identity(parent) in new_keys:
                    continue  # nested in its new parent's entry
                if parent is not None and _holder(files, kind, parent) is None:
                    text = (
                        f"{kind.singular} {shown(item.name)}: only in the CRM, under "
                        f"{shown(parent)}, which the configuration does not write: add "
                        "them by hand"
                    )
                    left.append(Note(kind_name, item.name, text))
                    continue
                children = _new_subtree(kind, item, state, new_keys) if kind.tree else ()
                target = _where_added(files, kind, parent)
                note = "" if applied_names.get(kind_name) else _NO_RECORD
                found.append(
                    Proposal(
                        kind,
                        Step.ADD,
                        item.name,
                        item=item,
                        children=children,
                        note=note,
                        where=target,
                    )
                )
            else:
                proposal = _update(kind, change, records.get(key), where, leftover, left)
                if proposal is not None:
                    found.append(proposal)
    for kind in ALL_KINDS:
        if kind.ordered and config.manages(kind) and _reordered(kind, config, state):
            # Which items a plan calls moved depends on the others (an insertion shifts
            # them): the order is the kind's, noted once.
            leftover[(kind.name, "")] = frozenset({"position"})
            text = (
                f"the order of the {kind.plural} differs in the CRM: reorder the entries by "
                "hand (crmconf plan shows where each one moves)"
            )
            left.append(Note(kind.name, None, text))
    found = [fit for proposal in found if (fit := _fitting(proposal, state, left))]
    found = [kept for proposal in found if (kept := _writable(proposal, files, left))]
    if config.source is not None and config.source.users is not None:
        aliases = {user: alias for alias, user in config.source.users}
        owner = config.source.users_of
        found = [kept for proposal in found if (kept := _aliased(proposal, aliases, owner, left))]
    found = _renames_with_references(found)
    found = _with_references(found, config, left)
    # In the registry's order, referenced kinds first: what a proposal goes with comes first.
    order = {kind.name: index for index, kind in enumerate(ALL_KINDS)}
    found.sort(key=lambda proposal: order.get(proposal.kind.name, len(order)))
    for kind_name, unmanaged in plan.unmanaged.items():
        kind = KINDS_BY_NAME[kind_name]
        listed = ", ".join(shown(item.name) for item in unmanaged)
        text = (
            f"{len(unmanaged)} {kind.plural if len(unmanaged) != 1 else kind.singular} only "
            f"in the CRM, which prune: false leaves unmanaged: {listed}"
        )
        left.append(Note(kind_name, None, text))
    for check in plan.checks:
        text = f"not read from the target, so not pulled: {check.message.splitlines()[0]}"
        left.append(Note("", None, text))
    return Pull(tuple(found), tuple(left), leftover)


def _renames_with_references(found: list[Proposal]) -> list[Proposal]:
    """Each rename with the references to it that the CRM shows renamed (a stage's
    rejection_reason): written apart, either answer alone would leave a reference to a
    name the configuration no longer has, or not yet."""
    found = list(found)
    for index, rename in enumerate(found):
        if rename.step is not Step.RENAME or rename.new_name is None:
            continue
        references: list[tuple[str, str, str]] = []
        for at, other in enumerate(found):
            for reference in other.kind.references if other.step is Step.UPDATE else ():
                after = other.fields.get(reference.field)
                before = other.before.get(reference.field)
                if (
                    reference.kind == rename.kind.name
                    and isinstance(after, str)
                    and isinstance(before, str)
                    and identity(after) == identity(rename.new_name)
                    and identity(before) == identity(rename.name)
                ):
                    references.append((other.kind.name, other.name, reference.field))
                    fields = {k: v for k, v in other.fields.items() if k != reference.field}
                    other = replace(
                        other, fields=fields, before={k: other.before.get(k) for k in fields}
                    )
            found[at] = other
        found[index] = replace(found[index], references=tuple(references))
    return [p for p in found if p.fields or p.new_name is not None or p.step is not Step.UPDATE]


def _reordered(kind: Kind, config: Configuration, state: State) -> bool:
    """Whether the items both sides have (an entry renamed from a CRM name: that item) stand
    in another order in the configuration than in the CRM."""
    place = {item.key: index for index, item in enumerate(state.of(kind))}
    seen = []
    for record in config.records(kind):
        keys = [record.key, *(identity(old) for old in record.renamed_from)]
        found = next((place[key] for key in keys if key in place), None)
        if found is not None:
            seen.append(found)
    return seen != sorted(seen)


def _with_references(
    found: list[Proposal], config: Configuration, left: list[Note]
) -> list[Proposal]:
    """Each proposal with the others it needs because of references between items, and
    without those whose references would name nothing once written (left alone, said)."""
    added: dict[tuple[str, str], Proposal] = {}
    removed: dict[tuple[str, str], Proposal] = {}
    for proposal in found:
        kind_name = proposal.kind.name
        if proposal.step is Step.ADD:
            for key in proposal.covers:
                added[key] = proposal
        elif proposal.step is Step.REMOVE:
            for key in proposal.covers:
                removed[key] = proposal
        elif proposal.step is Step.RENAME:
            assert proposal.new_name is not None
            removed[proposal.key] = proposal
            added[(kind_name, identity(proposal.new_name))] = proposal
    by_key = {proposal.key: proposal for proposal in found}
    needs: dict[tuple[str, str], set[tuple[str, str]]] = {p.key: set() for p in found}
    blocked: dict[tuple[str, str], str] = {}

    def check(proposal: Proposal, field: str, value: Any, target: str) -> None:
        key = (target, identity(value))
        if key in added and added[key] is not proposal:
            needs[proposal.key].add(added[key].key)
        elif key in removed or not any(r.key == key[1] for r in config.records(_kind(target))):
            blocked.setdefault(
                proposal.key,
                f"its {field} would name {shown(value)}, which the configuration would not have",
            )

    for proposal in found:
        for reference in proposal.kind.references:
            target = reference.kind
            if reference.field == "parent" or not config.manages(_kind(target)):
                continue
            values: list[Any] = []
            if proposal.step is Step.ADD:
                assert proposal.item is not None
                values = [
                    item.fields.get(reference.field) for item in (proposal.item, *proposal.children)
                ]
            elif reference.field in proposal.fields:
                values = [proposal.fields[reference.field]]
            for value in values:
                if value is not None:
                    check(proposal, reference.field, value, target)
    # An item taken out (or renamed) that a written entry still names needs that entry's change.
    for kind in ALL_KINDS:
        for reference in kind.references:
            if reference.field == "parent" or not config.manages(kind):
                continue
            for record in config.records(kind):
                value = record.fields.get(reference.field)
                taking = removed.get((reference.kind, identity(value))) if value else None
                if taking is None or reference.field in taking.rewrites.get(
                    (kind.name, record.key), frozenset()
                ):
                    continue  # nothing taken away, or a rename rewriting this reference
                changing = by_key.get((kind.name, record.key))
                if changing is not None and (
                    changing.step is Step.REMOVE or reference.field in changing.fields
                ):
                    needs[taking.key].add(changing.key)
                else:
                    blocked.setdefault(
                        taking.key,
                        f"{kind.singular} {shown(record.name)} still names it in the configuration",
                    )
    # What needs a blocked proposal is blocked too.
    changed = True
    while changed:
        changed = False
        for key, required in needs.items():
            if key not in blocked and any(other in blocked for other in required):
                blocked[key] = "it goes with a change left alone"
                changed = True
    kept = []
    for proposal in found:
        reason = blocked.get(proposal.key)
        if reason is not None:
            label = f"{proposal.kind.singular} {shown(proposal.name)}"
            left.append(Note(proposal.kind.name, proposal.name, f"{label}: {reason}"))
            continue
        wanted = sorted(needs[proposal.key])
        labels = tuple(by_key[key].label for key in wanted)
        kept.append(replace(proposal, requires=tuple(wanted), goes_with=labels))
    return kept


def _kind(name: str) -> Kind:
    return KINDS_BY_NAME[name]


def _tree_removals(
    kind: Kind, config: Configuration, gone: set[str]
) -> dict[str, tuple[str, tuple[str, ...]]]:
    """How each item of a tree the CRM lacks is taken out: "top" with the names below it
    (all gone too), "folded" into an ancestor's entry, or "blocked" with the subitems the
    CRM still has (then its own gone subitems are taken out on their own)."""
    children: dict[str, list[str]] = {}
    for record in config.records(kind):
        parent = record.fields.get("parent")
        if parent is not None:
            children.setdefault(identity(parent), []).append(record.name)

    def subtree(name: str) -> list[str]:
        below = []
        for child in children.get(identity(name), []):
            below.append(child)
            below.extend(subtree(child))
        return below

    shapes: dict[str, tuple[str, tuple[str, ...]]] = {}
    for record in config.records(kind):  # parents before their children
        if record.key not in gone:
            continue
        parent = record.fields.get("parent")
        above = shapes.get(identity(parent)) if parent is not None else None
        if above is not None and above[0] in ("top", "folded"):
            shapes[record.key] = ("folded", ())
            continue
        below = subtree(record.name)
        staying = tuple(name for name in below if identity(name) not in gone)
        shapes[record.key] = ("blocked", staying) if staying else ("top", tuple(below))
    return shapes


def _writable(proposal: Proposal, files: Sequence[SourceFile], left: list[Note]) -> Proposal | None:
    """The proposal as far as pull may write it: nothing in a file using YAML aliases, no
    value written with `${NAME}` (whoever sets NAME changes it)."""
    kind = proposal.kind
    label = f"{kind.singular} {shown(proposal.name)}"
    entries = _entries(files, kind, proposal.name)
    if proposal.step is Step.ADD or kind.is_switch:
        touched = [file for file in files if file.section(kind) is not None][-1:]
    else:
        touched = [entry.source for entry in entries]
    aliased = [str(file.path) for file in touched if file.aliased]
    if aliased:
        text = (
            f"{label}: {', '.join(aliased)} uses YAML aliases (*name), where one text stands "
            "for several values: pull changes nothing there; edit it by hand"
        )
        left.append(Note(kind.name, proposal.name, text))
        return None
    if kind.is_switch:
        file = touched[-1]
        section = file.section(kind)
        if section is not None and file.has_variable(section[1]):
            text = f"switch {kind.name}: written with ${{NAME}}: change the variable"
            left.append(Note(kind.name, None, text))
            return None
        return proposal
    if proposal.step not in (Step.UPDATE, Step.RENAME):
        return proposal
    if proposal.new_name is not None and _with_variable(kind, entries, kind.key_field):
        text = f"{label}: its name is written with ${{NAME}}: change the variable"
        left.append(Note(kind.name, proposal.name, text))
        return None
    fields = dict(proposal.fields)
    for name in list(fields):
        if _with_variable(kind, entries, name):
            text = f"{label}: {name} is written with ${{NAME}}: change the variable"
            left.append(Note(kind.name, proposal.name, text))
            del fields[name]
    if not fields and proposal.new_name is None:
        return None
    return replace(proposal, fields=fields, before={k: proposal.before.get(k) for k in fields})


def _aliased(
    proposal: Proposal, aliases: Mapping[str, str], owner: str, left: list[Note]
) -> Proposal | None:
    """The proposal with users written as the aliases the configuration names them by."""
    field_name = proposal.kind.users_field
    if field_name is None:
        return proposal

    def mapped(users: Any) -> list[str] | None:
        found = [aliases.get(str(user)) for user in users or ()]
        return None if None in found else sorted(str(alias) for alias in found)

    def unmapped(users: Any) -> str:
        return ", ".join(shown(user) for user in users or () if str(user) not in aliases)

    label = f"{proposal.kind.singular} {shown(proposal.name)}"
    if proposal.step is Step.ADD:
        assert proposal.item is not None
        items = [proposal.item, *proposal.children]
        lacking = [unmapped(item.fields.get(field_name)) for item in items]
        if any(lacking):
            text = (
                f"{label}: {owner} maps no alias to {', '.join(filter(None, lacking))}: add "
                "it under users: in crmconf.yaml, then pull again"
            )
            left.append(Note(proposal.kind.name, proposal.name, text))
            return None

        def with_aliases(item: ExistingItem) -> ExistingItem:
            fields = {**item.fields, field_name: mapped(item.fields.get(field_name)) or []}
            return replace(item, fields=fields)

        return replace(
            proposal,
            item=with_aliases(proposal.item),
            children=tuple(with_aliases(child) for child in proposal.children),
        )
    if field_name not in proposal.fields:
        return proposal
    fields = dict(proposal.fields)
    before = dict(proposal.before)
    members = mapped(fields[field_name])
    if members is None:
        text = (
            f"{label}: {field_name}: {owner} maps no alias to {unmapped(fields[field_name])}: "
            "add it under users: in crmconf.yaml, then pull again"
        )
        left.append(Note(proposal.kind.name, proposal.name, text))
        del fields[field_name]
        before.pop(field_name, None)
        if not fields and proposal.new_name is None and proposal.step is Step.UPDATE:
            return None
    else:
        fields[field_name] = members
        before[field_name] = mapped(before.get(field_name)) or before.get(field_name)
    return replace(proposal, fields=fields, before=before)


_NAME = TypeAdapter(Name)


def _fitting(proposal: Proposal, state: State, left: list[Note]) -> Proposal | None:
    """The proposal as far as a configuration can hold what the CRM has: the CRM's admin
    pages accept names (a tab, only spaces) and values (one a newer CRM offers) that the
    loader refuses, and one of them must not keep the rest from being pulled."""
    kind = proposal.kind
    names = [proposal.name] if proposal.step is Step.ADD else []
    names += [proposal.new_name] if proposal.new_name is not None else []
    names += [child.name for child in proposal.children]
    for name in names:
        try:
            _NAME.validate_python(name)
        except ValidationError:
            label = f"{kind.singular} {without_bidi_controls(shown(name))}"
            why = (
                f"longer than {NAME_MAX_LENGTH} characters"
                if len(name) > NAME_MAX_LENGTH
                else "a control character, or nothing visible"
            )
            text = (
                f"{label}: its name in the CRM is not one a configuration can hold ({why}): "
                "rename it in the CRM, then pull again"
            )
            left.append(Note(kind.name, proposal.name, text))
            return None
    if kind.item_model is None or proposal.step is Step.REMOVE or kind.is_switch:
        return proposal
    label = f"{kind.singular} {without_bidi_controls(shown(proposal.name))}"
    wrong = _refused_fields(kind, proposal, state)
    if proposal.step is Step.ADD:
        for field_name, value, message in wrong:
            left.append(Note(kind.name, proposal.name, _refused(label, field_name, value, message)))
        return None if wrong else proposal
    fields = dict(proposal.fields)
    for field_name, value, message in wrong:
        if field_name in fields:
            left.append(Note(kind.name, proposal.name, _refused(label, field_name, value, message)))
            del fields[field_name]
    if not fields and proposal.new_name is None:
        return None
    return replace(proposal, fields=fields, before={k: proposal.before.get(k) for k in fields})


def _refused_fields(kind: Kind, proposal: Proposal, state: State) -> list[tuple[str, Any, str]]:
    """The fields of the CRM's item that its kind's model refuses: name, value, why."""
    assert kind.item_model is not None
    items = [proposal.item, *proposal.children] if proposal.item is not None else []
    if not items:
        wanted = identity(proposal.new_name or proposal.name)
        items = [item for item in state.of(kind) if item.key == wanted]
    wrong: list[tuple[str, Any, str]] = []
    for item in items:
        try:
            kind.item_model.model_validate(item_entry(kind, item))
        except ValidationError as error:
            for detail in error.errors(include_url=False):
                field_name = str(detail["loc"][0]) if detail["loc"] else kind.key_field
                wrong.append((field_name, item.fields.get(field_name), detail["msg"]))
    return wrong


def _refused(label: str, field_name: str, value: Any, message: str) -> str:
    return (
        f"{label}: {field_name} {without_bidi_controls(shown(value))} in the CRM is not a value "
        f"a configuration can hold ({message}): this crmconf does not know it"
    )


def _with_variable(kind: Kind, entries: Sequence[Entry], key: str) -> bool:
    """Whether any entry writes a key's value (a bare name: the name) with `${NAME}`."""
    for entry in entries:
        pair = entry.pair(key)
        if pair is not None:
            node = pair[1]
        elif isinstance(entry.node, ScalarNode) and key == kind.key_field:
            node = entry.node
        else:
            continue
        if entry.source.has_variable(node):
            return True
    return False


_NO_RECORD = (
    "the target has no record of the ids crmconf applied, so a rename in the CRM shows as "
    "one item taken out and one added; write renamed_from: by hand if it was a rename"
)


def _rename(
    kind: Kind,
    change: Change,
    item: ExistingItem,
    where: str,
    leftover: dict[tuple[str, str], frozenset[str]],
) -> Proposal:
    assert change.after is not None
    fields = {
        name: value
        for name, value in item.fields.items()
        if name not in _NOT_WRITTEN and change.after.get(name) != value
    }
    skipped = frozenset(
        name
        for name in _NOT_WRITTEN & set(change.after)
        if name in item.fields and item.fields.get(name) != change.after.get(name)
    )
    if skipped:
        leftover[(kind.name, item.key)] = skipped
    return Proposal(
        kind,
        Step.RENAME,
        change.name,
        fields,
        {name: change.after.get(name) for name in fields},
        new_name=item.name,
        where=where,
        note=_moved_note(skipped),
    )


def _update(
    kind: Kind,
    change: Change,
    record: Any,
    where: str,
    leftover: dict[tuple[str, str], frozenset[str]],
    left: list[Note],
) -> Proposal | None:
    assert change.before is not None and change.after is not None
    label = f"{kind.singular} {shown(change.name)}"
    new_name = None
    if "name" in change.changed:
        old = str(change.before["name"])
        if identity(old) != identity(change.name):
            text = (
                f"{label}: the configuration renames {shown(old)} to it (renamed_from), and "
                "that was not applied yet — apply it, or rename the entry back by hand"
            )
            left.append(Note(kind.name, change.name, text))
            return None
        new_name = old
    fields = {name: change.before.get(name) for name in change.changed if name not in _NOT_WRITTEN}
    fields.pop("name", None)
    if "parent" in change.changed:
        leftover[(kind.name, identity(change.name))] = frozenset({"parent"})
        left.append(Note(kind.name, change.name, f"{label}: {_moved_note(frozenset({'parent'}))}"))

    if not fields and new_name is None:
        return None
    before = {name: change.after.get(name) for name in fields}
    return Proposal(kind, Step.UPDATE, change.name, fields, before, new_name, where=where)


def _moved_note(skipped: frozenset[str]) -> str:
    if not skipped:
        return ""
    moved = " and ".join(
        {"position": "its place in the list", "parent": "its parent group"}[name]
        for name in sorted(skipped)
    )
    return f"{moved} differs in the CRM: move the entry by hand"


def _new_subtree(
    kind: Kind, item: ExistingItem, state: State, new_keys: set[str]
) -> tuple[ExistingItem, ...]:
    below: list[ExistingItem] = []
    parents = {item.key}
    for candidate in state.of(kind):
        parent = candidate.fields.get("parent")
        if parent is not None and identity(parent) in parents and candidate.key in new_keys:
            below.append(candidate)
            parents.add(candidate.key)
    return tuple(below)


def _where(files: Sequence[SourceFile], kind: Kind, name: str) -> str:
    entries = _entries(files, kind, name)
    if kind.is_switch:
        sections = [(file, found) for file in files if (found := file.section(kind))]
        if sections:
            file, (key, _value) = sections[-1]
            return f"{file.path}:{key.start_mark.line + 1}"
    return ", ".join(str(entry.location) for entry in entries)


def _where_added(files: Sequence[SourceFile], kind: Kind, parent: str | None) -> str:
    if parent is not None:
        for file in reversed(files):
            entry = file.find(kind, parent)
            if entry is not None:
                return f"under {shown(entry.name)} in {file.path}:{entry.location.line}"
    for file in reversed(files):
        section = file.section(kind)
        if section is not None:
            return f"{file.path}:{section[0].start_mark.line + 1}"
    return ""


# Writing the accepted proposals.


def write(
    accepted: Sequence[Proposal], files: Sequence[SourceFile], state: State
) -> dict[Path, str]:
    """The new text of every file the accepted proposals change."""
    removing: list[Entry] = []
    for proposal in accepted:
        if proposal.step is Step.REMOVE:
            removing.extend(_entries(files, proposal.kind, proposal.name))
    taken = {id(entry.node) for entry in removing}
    removing = [entry for entry in removing if not _inside(entry, taken)]
    gone = {id(entry.node) for entry in removing}
    inserting: dict[tuple[int, ...], _Insertion] = {}
    for proposal in accepted:
        kind = proposal.kind
        if kind.is_switch:
            file, (_key, value) = [(f, found) for f in files if (found := f.section(kind))][-1]
            file.set_switch(value, bool(proposal.fields["enabled"]))
        elif proposal.step is Step.ADD:
            _plan_insertion(proposal, files, state, gone, inserting)
        elif proposal.step is not Step.REMOVE:
            _plan_update(proposal, _entries(files, kind, proposal.name), files)
    receiving = {id(i.sequence) for i in inserting.values() if i.sequence is not None}
    by_file: dict[int, list[Entry]] = {}
    for entry in removing:
        by_file.setdefault(id(entry.source), []).append(entry)
    for entry_list in by_file.values():
        entry_list[0].source.remove(entry_list, receiving)
    for insertion in inserting.values():
        insertion.make()
    return {file.path: file.edited() for file in files if file.edits}


def _holder(files: Sequence[SourceFile], kind: Kind, parent: str) -> Entry | None:
    """The entry a new subitem goes under: the parent's, or the one renamed from it."""
    found = _entries(files, kind, parent)
    if found:
        return found[-1]
    key = identity(parent)
    for file in reversed(files):
        for entry in file.entries(kind):
            if any(identity(old) == key for old in _renamed_from(file, entry.node)):
                return entry
    return None


def _inside(entry: Entry, taken: set[int]) -> bool:
    """Whether an entry goes with an ancestor's that is taken out."""
    parent = entry.parent
    while parent is not None:
        if id(parent.node) in taken:
            return True
        parent = parent.parent
    return False


def _entries(files: Sequence[SourceFile], kind: Kind, name: str) -> list[Entry]:
    """An item's entries that make it: an overlay that drops it and writes it anew
    replaces it whole, so the entries before it say nothing about it."""
    first = max((at for at, file in enumerate(files) if file.drops(kind, name)), default=0)
    return [entry for file in files[first:] if (entry := file.find(kind, name)) is not None]


def _plan_update(proposal: Proposal, entries: list[Entry], files: Sequence[SourceFile]) -> None:
    kind = proposal.kind
    fields: dict[int, dict[str, Any]] = {}
    for name, value in proposal.fields.items():
        writing = [entry for entry in entries if entry.writes(name)]
        entry = (writing or entries)[-1]
        fields.setdefault(id(entry), {})[name] = value
    if proposal.step is Step.RENAME:
        defining = entries[0]
        found = defining.pair("renamed_from")
        written = [] if found is None else [n.value for n in getattr(found[1], "value", [])]
        fields.setdefault(id(defining), {})["renamed_from"] = [*written, proposal.name]
    for entry in entries:
        entry.source.update(entry, kind, fields.get(id(entry), {}), proposal.new_name)
    if proposal.step is not Step.RENAME:
        return
    assert proposal.new_name is not None
    for kind_name, name, field_name in proposal.references:
        referring = KINDS_BY_NAME[kind_name]
        for entry in _entries(files, referring, name):
            if entry.writes(field_name):
                entry.source.update(entry, referring, {field_name: proposal.new_name})
    for file in files:
        for node in file.moves_to(kind, proposal.name):
            file.rename_reference(node, proposal.new_name)


@dataclass
class _Insertion:
    """New entries going into one list of one file, after one of its items."""

    file: SourceFile
    sequence: SequenceNode | None
    after: Node | None
    kept: list[Node]
    entries: list[Any] = field(default_factory=list)
    parent: Entry | None = None
    """Set when the list does not exist yet: the entry that gets `children:`."""

    def make(self) -> None:
        if self.sequence is None:
            assert self.parent is not None
            self.file.add_children(self.parent, self.entries)
        else:
            self.file.insert(self.sequence, self.entries, self.after, self.kept)


def _plan_insertion(
    proposal: Proposal,
    files: Sequence[SourceFile],
    state: State,
    gone: set[int],
    inserting: dict[tuple[int, ...], _Insertion],
) -> None:
    kind = proposal.kind
    item = proposal.item
    assert item is not None
    entry = _entry(kind, item, proposal.children)
    parent = item.fields.get("parent") if kind.tree else None
    sequence: SequenceNode
    if parent is not None:
        holder = _holder(files, kind, parent)
        assert holder is not None  # proposals() leaves an item of an unwritten parent alone
        children = holder.children
        if children is None:
            new_list = (id(holder.source), id(holder.node))
            inserting.setdefault(new_list, _Insertion(holder.source, None, None, [], parent=holder))
            inserting[new_list].entries.append(entry)
            return
        file, sequence = holder.source, children
    else:
        sections = [(f, found) for f in files if (found := f.section(kind)) is not None]
        file, (_key, value) = sections[-1]
        assert isinstance(value, SequenceNode)
        sequence = value
    kept = [node for node in sequence.value if id(node) not in gone]
    after = kept[-1] if kept else None
    if kind.ordered:
        after = _previous_in_file(kind, item, state, file, kept)
    key = (id(file), id(sequence), id(after))
    inserting.setdefault(key, _Insertion(file, sequence, after, kept))
    inserting[key].entries.append(entry)


def _previous_in_file(
    kind: Kind, item: ExistingItem, state: State, file: SourceFile, kept: list[Node]
) -> Node | None:
    """The kept item of the file's list the new one follows in the CRM's order (None:
    it goes first)."""
    written: dict[str, Node] = {}
    for node in kept:
        # An entry renamed from a name the CRM still has stands where that item stands.
        for name in (file.name_of(kind, node), *_renamed_from(file, node)):
            if name is not None:
                written.setdefault(identity(name), node)
    previous = None
    for existing in state.of(kind):
        if existing.key == item.key:
            return previous
        if existing.key in written:
            previous = written[existing.key]
    return previous


def _renamed_from(file: SourceFile, node: Node) -> list[str]:
    if not isinstance(node, MappingNode):
        return []
    for key, value in node.value:
        if isinstance(key, ScalarNode) and key.value == "renamed_from":
            items = value.value if isinstance(value, SequenceNode) else [value]
            return [file.substituted(i.value) for i in items if isinstance(i, ScalarNode)]
    return []


def _entry(kind: Kind, item: ExistingItem, children: Sequence[ExistingItem]) -> Any:
    entry = item_entry(kind, item)
    below = [child for child in children if child.fields.get("parent") == item.name]
    if below:
        if not isinstance(entry, dict):
            entry = {kind.key_field: entry}
        entry["children"] = [_entry(kind, child, children) for child in below]
    return entry
