"""`--only` and `--exclude`: which kinds, and which items of them, one run plans and applies.

A selector is `KIND` or `KIND:PATTERN`. Kinds are named as their sections in the
configuration (``industries``, ``sales.stages``); a section holding several kinds
(``sales``) stands for all of them. A pattern is shell-style and case-insensitive
(``industries:Bygg*``); a group is matched by its path in the tree, names joined by
``/``, and ``groups:Försäljning/**`` is that group and everything under it. Kinds whose
order means something (stages, option lists) are selected whole: their order cannot be
planned for a part of them.

With `--only`, a kind is planned when a selector names it, all its items or the ones
a pattern matches; `--exclude` then takes kinds or items away. Items left out are left
alone on both sides — not created, changed or deleted — and listed in the plan. A
pattern matching nothing is an error: a typo must not silently select nothing.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from crmconf.errors import ConfigError, Problem
from crmconf.kinds import ALL_KINDS, KINDS_BY_NAME
from crmconf.model.configuration import Configuration
from crmconf.model.kind import Kind, Record
from crmconf.model.names import identity
from crmconf.model.state import ExistingItem, State


def selectable_names() -> dict[str, frozenset[str]]:
    """Every name `--only` accepts, in configuration order, with the kinds it stands for."""
    names: dict[str, set[str]] = {}
    for kind in ALL_KINDS:
        for depth in range(1, len(kind.section) + 1):
            names.setdefault(".".join(kind.section[:depth]), set()).add(kind.name)
    return {name: frozenset(kinds) for name, kinds in names.items()}


def select_kinds(text: str, option: str = "--only") -> frozenset[str]:
    """The kind names a comma-separated option value stands for (patterns ignored)."""
    return frozenset(
        name for selector in parse_selectors([text], option) for name in selector.kinds
    )


@dataclass(frozen=True)
class Selector:
    """One `KIND` or `KIND:PATTERN` of `--only` or `--exclude`."""

    text: str
    kinds: frozenset[str]
    pattern: str | None = None

    def matches(self, path: str) -> bool:
        """Whether an item, by its path (a name; for a group, its names from the top), is
        one this selector names."""
        if self.pattern is None:
            return True
        pattern, path = self.pattern.casefold(), identity(path)
        if pattern.endswith("/**") and fnmatch.fnmatchcase(path, pattern[:-3]):
            return True  # the group itself, besides everything under it
        return fnmatch.fnmatchcase(path, pattern)


def parse_selectors(texts: Iterable[str], option: str) -> tuple[Selector, ...]:
    """The selectors of an option's values (each comma-separated); ConfigError naming every
    unknown kind, with the valid ones."""
    known = selectable_names()
    valid = ", ".join(known)
    tokens = [token.strip() for text in texts for token in text.split(",") if token.strip()]
    if not tokens:
        raise ConfigError(
            [Problem(f"{option} names no kind", None, f"name one or more of: {valid}")]
        )
    problems: list[Problem] = []
    selectors: list[Selector] = []
    for token in tokens:
        name, colon, pattern = token.partition(":")
        name, pattern = name.strip(), pattern.strip()
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            guess = f"did you mean {close[0]!r}? " if close else ""
            problems.append(
                Problem(f"{option}: no kind is called {name!r}", None, guess + f"valid: {valid}")
            )
            continue
        if colon and not pattern:
            problems.append(
                Problem(
                    f"{option} {token}: the pattern after ':' is empty",
                    None,
                    f"write {name} for every item, or {name}:PATTERN (e.g. {name}:A*)",
                )
            )
            continue
        ordered = sorted(kind for kind in known[name] if KINDS_BY_NAME[kind].ordered)
        if pattern and ordered:
            problems.append(
                Problem(
                    f"{option} {token}: {', '.join(ordered)} keep their items in an order, "
                    "which a part of them cannot be planned in",
                    None,
                    f"select the whole kind: {option} {name}",
                )
            )
            continue
        selectors.append(Selector(token, known[name], pattern or None))
    if problems:
        raise ConfigError(problems)
    return tuple(selectors)


@dataclass(frozen=True)
class Selection:
    """What `--only` and `--exclude` leave to plan."""

    only: tuple[Selector, ...] = ()
    exclude: tuple[Selector, ...] = ()
    texts: tuple[tuple[str, ...], tuple[str, ...]] = field(default=((), ()))

    @classmethod
    def of(
        cls, only: Iterable[str] | None = None, exclude: Iterable[str] | None = None
    ) -> Selection:
        only_texts = tuple(only) if only is not None else ()
        exclude_texts = tuple(exclude) if exclude is not None else ()
        return cls(
            parse_selectors(only_texts, "--only") if only is not None else (),
            parse_selectors(exclude_texts, "--exclude") if exclude is not None else (),
            (only_texts, exclude_texts),
        )

    @property
    def everything(self) -> bool:
        return not self.only and not self.exclude

    def kinds(self) -> frozenset[str]:
        """The kinds a run plans: named by --only (all without it), less those excluded whole."""
        chosen = {kind.name for kind in ALL_KINDS}
        if self.only:
            chosen = {name for selector in self.only for name in selector.kinds}
        for selector in self.exclude:
            if selector.pattern is None:
                chosen -= selector.kinds
        return frozenset(chosen)

    def keeps(self, kind: Kind, path: str) -> bool:
        """Whether an item of a planned kind is planned too."""
        naming = [selector for selector in self.only if kind.name in selector.kinds]
        if naming and not any(selector.matches(path) for selector in naming):
            return False
        return not any(
            kind.name in selector.kinds and selector.pattern is not None and selector.matches(path)
            for selector in self.exclude
        )

    def unmatched(self, paths: Mapping[str, Sequence[str]]) -> list[Problem]:
        """A problem for every pattern that matches no item of its kinds (`paths`: per kind,
        every item's path in the configuration and the target)."""
        problems = []
        for option, selectors in (("--only", self.only), ("--exclude", self.exclude)):
            for selector in selectors:
                if selector.pattern is None:
                    continue
                candidates = [path for name in selector.kinds for path in paths.get(name, ())]
                if not any(selector.matches(path) for path in candidates):
                    kinds = sorted(selector.kinds)
                    plural = ", ".join(KINDS_BY_NAME[name].plural for name in kinds)
                    problems.append(
                        Problem(
                            f"{option} {selector.text}: the pattern matches none of the "
                            f"{plural} in the configuration or the target",
                            None,
                            "check the spelling (patterns are shell-style, e.g. Bygg* or "
                            "Försäljning/** for a group and its subgroups)",
                        )
                    )
        return problems


def item_paths(kind: Kind, names_and_parents: Iterable[tuple[str, str | None]]) -> dict[str, str]:
    """Identity → path of every item of a kind: its name, or for a tree its names from the
    top joined by '/' (a parent outside the list, or a loop, ends the walk)."""
    parents = {identity(name): (name, parent) for name, parent in names_and_parents}
    paths: dict[str, str] = {}
    for key, (name, parent) in parents.items():
        parts = [name]
        seen = {key}
        while kind.tree and parent is not None and identity(parent) in parents:
            parent_key = identity(parent)
            if parent_key in seen:
                break
            seen.add(parent_key)
            parent_name, parent = parents[parent_key]
            parts.append(parent_name)
        paths[key] = "/".join(reversed(parts))
    return paths


@dataclass(frozen=True)
class Selected:
    """A configuration and a target's state limited to the items a selection plans."""

    config: Configuration
    state: State
    left_out: dict[str, tuple[str, ...]]
    """Per kind, the items left alone (in the configuration, the target or both)."""


def select_items(config: Configuration, state: State, selection: Selection) -> Selected:
    """Keep the items a selection plans on both sides; ConfigError for a pattern matching
    nothing, or a planned item naming one left out that the target does not have yet."""
    sections: dict[str, tuple[Record, ...]] = {}
    removals: dict[str, tuple[Record, ...]] = {}
    items: dict[str, tuple[ExistingItem, ...]] = dict(state.items)
    left_out: dict[str, tuple[str, ...]] = {}
    all_paths: dict[str, list[str]] = {}
    kept_keys: dict[str, set[str]] = {}
    for kind in ALL_KINDS:
        records = config.sections.get(kind.name)
        if records is None:
            continue
        existing = state.of(kind)
        record_paths = item_paths(kind, ((r.name, r.fields.get("parent")) for r in records))
        existing_paths = item_paths(kind, ((i.name, i.fields.get("parent")) for i in existing))
        all_paths[kind.name] = [*record_paths.values(), *existing_paths.values()]
        if kind.is_switch:
            sections[kind.name] = records
            continue
        kept = tuple(r for r in records if selection.keeps(kind, record_paths[r.key]))
        # An item a planned one is renamed from is planned with it: the rename, not a create.
        former = {identity(old) for record in kept for old in record.renamed_from}
        kept_items = tuple(
            i for i in existing if i.key in former or selection.keeps(kind, existing_paths[i.key])
        )
        sections[kind.name] = kept
        items[kind.name] = kept_items
        removals[kind.name] = tuple(
            r for r in config.removals.get(kind.name, ()) if selection.keeps(kind, r.name)
        )
        kept_keys[kind.name] = {r.key for r in kept}
        still = {i.key for i in kept_items}
        dropped = {r.key: r.name for r in records if r.key not in kept_keys[kind.name]}
        dropped.update({i.key: i.name for i in existing if i.key not in still})
        if dropped:
            left_out[kind.name] = tuple(sorted(dropped.values(), key=identity))
    problems = selection.unmatched(all_paths)
    problems.extend(_dangling(sections, kept_keys, state))
    if problems:
        raise ConfigError(problems)
    limited = replace(config, sections=sections, removals=removals)
    return Selected(limited, replace(state, items=items), left_out)


def _dangling(
    sections: Mapping[str, tuple[Record, ...]], kept: Mapping[str, set[str]], state: State
) -> list[Problem]:
    """Planned items naming an item left out that the target does not have: applying them
    would point at nothing."""
    problems = []
    for name, records in sections.items():
        kind = KINDS_BY_NAME[name]
        for reference in kind.references:
            if reference.kind not in kept:
                continue  # a kind not planned at all: the planner checks those
            there = {item.key for item in state.of(KINDS_BY_NAME[reference.kind])}
            for record in records:
                value = record.fields.get(reference.field)
                if value is None or identity(value) in kept[reference.kind]:
                    continue
                if identity(value) not in there:
                    target = KINDS_BY_NAME[reference.kind]
                    problems.append(
                        Problem(
                            f"{kind.singular} {record.name!r} names {target.singular} "
                            f"{value!r}, which --only/--exclude leaves out and the target "
                            "does not have yet",
                            record.location,
                            f"select {target.singular} {value!r} too, or apply it first",
                        )
                    )
    return problems
