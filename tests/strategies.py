"""Hypothesis strategies for crmconf: valid configurations and starting sandbox states.

A configuration is drawn against the settings a target holds: each existing item is
kept, respelt (same identity), renamed through `renamed_from` or dropped, and new items
are added — so plans create, update, rename, move and delete. `settings_of` reads a
configuration document, or an export, into comparable settings with crmconf's
documented normalisation written out here independently of crmconf's own loader.

Profiles: `make test` runs a small deterministic slice; `make fuzz` sets
HYPOTHESIS_PROFILE=fuzz for at least 500 examples per property.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import insert, update
from sqlalchemy.engine import make_url

from crmconf.api import open_target
from crmconf.kinds import (
    ALL_KINDS,
    CATEGORIES,
    CONTACT_ORIGINS,
    GROUPS,
    INDUSTRIES,
    PRODUCTS,
    REJECTION_REASONS,
    RESTORE_CUSTOMERS,
    SALE_TYPES,
    SHOW_AS_TAB,
    SOURCES,
    STAGES,
    STATUS_TYPES,
)
from crmconf.model.kind import Kind
from crmconf.model.names import NAME_MAX_LENGTH, Name, identity
from crmconf.model.state import ExistingItem, State
from crmconf.targets.base import Target
from crmconf.targets.sandbox import schema

# Profiles

SLICE = "crmconf-slice"
FUZZ = "fuzz"
_QUIET = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large]
settings.register_profile(
    SLICE,
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=_QUIET,
    print_blob=True,
    # A failure is reported as found, unshrunk: shrinking can take minutes. `make fuzz` shrinks.
    phases=[Phase.explicit, Phase.generate],
)
settings.register_profile(
    FUZZ, max_examples=500, deadline=None, suppress_health_check=_QUIET, print_blob=True
)
PROFILE = FUZZ if os.environ.get("HYPOTHESIS_PROFILE") == FUZZ else SLICE


def profile(slice_examples: int | None = None) -> settings:
    """The settings of the chosen profile; a heavy test may run fewer examples in the slice."""
    chosen = settings.get_profile(PROFILE)
    if PROFILE == SLICE and slice_examples is not None:
        return settings(chosen, max_examples=slice_examples)
    return chosen


# Names

_TRICKY_NAMES = (
    # Plain scalars YAML 1.1 or 1.2 would read as something else.
    *("No", "on", "Yes", "off", "y", "N", "true", "null", "~", "1.0", "0o17", "017"),
    *("0x1F", "1_000", "1e3", ".inf", ".NaN", "2024-01-31", "12:30:00", "-1"),
    # Indicators and punctuation.
    *("- Bygg", "Bygg: Turism", "#1 Kund", "Kund #1", "'citat'", '"citat"', "[A]", "{A}"),
    *("&A", "*A", "!A", "%A", "@A", "`A", "|A", ">A", "?A", "a, b", "<<", "---", "..."),
    # Unicode that folds, widens or spaces unusually.
    *("Data/IT", "Ej  bearbetad", "Café", "Ölands bryggeri", "Straße", "STRASSE 2", "İstanbul"),
    *("ǅemal", "ﬁnans", "日本語の業界", "Kund 🎉", "A\u00a0B", "\u200bZ", "Åh\u0308"),
    *("A\ufeffB", "\\", "a\\nb", "x" * NAME_MAX_LENGTH),
    # Text that looks like crmconf's `${VARIABLE}` references.
    *("Lön ${HOME}", "${", "a $${b}", "${HOME:-x}", "$HOME", "pris $5"),
)
_REALISTIC_NAMES = (
    *("Bygg", "Turism", "Handel", "Industri", "Offentlig sektor", "IT och telekom"),
    *("Aktiv", "Vilande", "Prospekt", "Pris", "Gått till konkurrent", "Ingen budget"),
    *("Merförsäljning", "Nyförsäljning", "Mässa", "Webbformulär", "Rekommendation"),
    *("Google", "LinkedIn", "Nyhetsbrev", "Ekonomi", "Lön", "CRM", "Partner", "VIP"),
    *("Försäljning", "Administration", "Ledning", "Support", "Stockholm", "Göteborg"),
)
# Control characters and line/paragraph separators are refused in names (YAML folds them).
_NAME_CHARACTERS = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp"))


_NAME = TypeAdapter(Name)


def is_valid_name(text: str) -> bool:
    """A name crmconf accepts and keeps as written (no surrounding whitespace)."""
    try:
        return bool(_NAME.validate_python(text) == text)
    except ValidationError:
        return False


names = st.one_of(
    st.sampled_from(_REALISTIC_NAMES),
    st.sampled_from(_TRICKY_NAMES),
    st.text(_NAME_CHARACTERS, min_size=1, max_size=30).map(str.strip).filter(is_valid_name),
)
"""Valid, stripped names; not unique."""


def _fresh(draw: st.DrawFn, taken: set[str]) -> str:
    """A name whose identity is not taken yet (and now is)."""
    name = draw(names)
    candidate, number = name, 2
    while identity(candidate) in taken:
        suffix = f" {number}"
        candidate = name[: NAME_MAX_LENGTH - len(suffix)].rstrip() + suffix
        number += 1
    taken.add(identity(candidate))
    return candidate


def _respelt(draw: st.DrawFn, name: str) -> str:
    """The same name in other case or spacing: the same item to crmconf."""
    spellings = [
        spelling
        for spelling in (name.upper(), name.lower(), name.swapcase(), name.replace(" ", "  "))
        if spelling != name and identity(spelling) == identity(name) and is_valid_name(spelling)
    ]
    return draw(st.sampled_from(spellings)) if spellings else name


# Configurations


@dataclass
class _Named:
    """One item of a list kind being drawn: its name and what it was renamed from."""

    name: str
    renamed_from: tuple[str, ...] = ()


def is_used(kind: Kind, item: ExistingItem, state: State) -> bool:
    """Whether deleting the item would orphan data (or a stage naming a rejection reason)."""
    if item.usage.total:
        return True
    return kind is REJECTION_REASONS and any(
        identity(stage.fields.get("rejection_reason") or "") == item.key
        for stage in state.of(STAGES)
    )


@st.composite
def _named_items(
    draw: st.DrawFn, kind: Kind, state: State, keep_used: bool, taken: set[str]
) -> list[_Named]:
    """Existing items kept, respelt, renamed or dropped, plus new ones; in random order."""
    existing = state.of(kind)
    taken.update(item.key for item in existing)
    chosen: list[_Named] = []
    for item in existing:
        fate = draw(st.sampled_from(["keep", "keep", "respell", "rename", "drop"]))
        if fate == "drop" and keep_used and is_used(kind, item, state):
            fate = "keep"
        if fate == "keep":
            chosen.append(_Named(item.name))
        elif fate == "respell":
            chosen.append(_Named(_respelt(draw, item.name)))
        elif fate == "rename":
            old = _respelt(draw, item.name) if draw(st.booleans()) else item.name
            chosen.append(_Named(_fresh(draw, taken), (old,)))
    for _ in range(draw(st.integers(0, 4))):
        stale = (_fresh(draw, taken),) if draw(st.integers(0, 5)) == 0 else ()
        chosen.append(_Named(_fresh(draw, taken), stale))
    return draw(st.permutations(chosen))


def _padded(draw: st.DrawFn, name: str) -> str:
    """Sometimes surround a name with spaces, which crmconf trims."""
    if len(name) + 2 <= NAME_MAX_LENGTH and draw(st.integers(0, 7)) == 0:
        return f" {name} "
    return name


def _entry(draw: st.DrawFn, kind: Kind, named: _Named, fields: dict[str, Any]) -> Any:
    key = "title" if kind is STAGES else "name"
    name = _padded(draw, named.name)
    short_form = kind not in (CATEGORIES, GROUPS, STAGES)
    if short_form and not fields and not named.renamed_from and draw(st.booleans()):
        return name
    entry: dict[str, Any] = {key: name, **fields}
    if named.renamed_from:
        entry["renamed_from"] = list(named.renamed_from)
    return entry


_STATUS_SPELLINGS = {
    "open": ("open", "Öppen"),
    "open_won": ("open_won", "Öppen – vunnen", "Öppen - vunnen"),
    "closed_won": ("closed_won", "Stängd – vunnen", "Stängd - vunnen"),
    "closed_lost": ("closed_lost", "Stängd – tappad", "Stängd - tappad"),
}
_GROUP_TYPE_SPELLINGS = {"standard": ("standard", "Standard"), "sales": ("sales", "Försäljning")}
_SHOW_ON = st.sampled_from(["customer", "contact", "both"])
_DESCRIPTIONS = st.one_of(
    st.sampled_from(["", "Alla säljare", "  Ledningsgruppen  ", "Rad 1\nRad 2", "a: b # c"]),
    st.sampled_from(["2024", "³", "007", "${HOME}"]),
    # Any text but NUL, which no database stores (refused on load).
    st.text(
        st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00"),
        max_size=30,
    ),
)


@st.composite
def _stage_fields(draw: st.DrawFn, reasons: list[str]) -> dict[str, Any]:
    status = draw(st.sampled_from(sorted(_STATUS_SPELLINGS)))
    probability: int | float = draw(st.integers(0, 100))
    if draw(st.integers(0, 5)) == 0:
        probability = float(probability)  # 50.0 is the whole number 50
    fields: dict[str, Any] = {
        "probability": probability,
        "status": draw(st.sampled_from(_STATUS_SPELLINGS[status])),
    }
    if reasons and draw(st.booleans()):
        reason = draw(st.sampled_from(reasons))
        fields["rejection_reason"] = _respelt(draw, reason) if draw(st.booleans()) else reason
    return fields


@st.composite
def _group_tree(draw: st.DrawFn, state: State, keep_used: bool, users: list[str]) -> list[Any]:
    groups = draw(_named_items(GROUPS, state, keep_used, set()))
    placed: list[tuple[dict[str, Any], int]] = []
    roots: list[dict[str, Any]] = []
    for named in groups:
        group_type = draw(st.sampled_from(sorted(_GROUP_TYPE_SPELLINGS)))
        fields: dict[str, Any] = {
            "type": draw(st.sampled_from(_GROUP_TYPE_SPELLINGS[group_type])),
        }
        description = draw(_DESCRIPTIONS)
        if description or draw(st.booleans()):
            fields["description"] = description
        if users and draw(st.booleans()):
            fields["members"] = draw(st.lists(st.sampled_from(users), max_size=len(users) + 1))
        entry = _entry(draw, GROUPS, named, fields)
        parents = [(parent, depth) for parent, depth in placed if depth < 4]
        if parents and draw(st.booleans()):
            parent, depth = draw(st.sampled_from(parents))
            parent.setdefault("children", []).append(entry)
            placed.append((entry, depth + 1))
        else:
            roots.append(entry)
            placed.append((entry, 0))
    return roots


@st.composite
def configurations(draw: st.DrawFn, state: State, keep_used: bool = True) -> dict[str, Any]:
    """A valid configuration document (plain data, as YAML reads it) for a target's state.

    With keep_used, nothing that data (or an unmanaged stage) uses is dropped, so the
    plan can be applied; without it, drops may hit used items and the plan must refuse.
    """
    managed = {kind.name for kind in ALL_KINDS if draw(st.integers(0, 3)) > 0}
    document: dict[str, Any] = {"crmconf": 1}
    values: dict[str, Any] = {}
    for kind in (SHOW_AS_TAB, RESTORE_CUSTOMERS):
        if kind.name in managed:
            values[kind.name] = draw(st.booleans())
    for kind in (CONTACT_ORIGINS, PRODUCTS, SOURCES, INDUSTRIES, STATUS_TYPES, SALE_TYPES):
        if kind.name in managed:
            items = draw(_named_items(kind, state, keep_used, set()))
            values[kind.name] = [_entry(draw, kind, named, {}) for named in items]
    if CATEGORIES.name in managed:
        items = draw(_named_items(CATEGORIES, state, keep_used, set()))
        values[CATEGORIES.name] = [
            _entry(draw, CATEGORIES, named, {"show_on": draw(_SHOW_ON)}) for named in items
        ]
    if GROUPS.name in managed:
        values[GROUPS.name] = draw(_group_tree(state, keep_used, sorted(state.users or ())))
    reasons = [item.name for item in state.of(REJECTION_REASONS)]
    if REJECTION_REASONS.name in managed:
        items = draw(_named_items(REJECTION_REASONS, state, keep_used, set()))
        values[REJECTION_REASONS.name] = [
            _entry(draw, REJECTION_REASONS, named, {}) for named in items
        ]
        reasons = [named.name for named in items]
    if STAGES.name in managed:
        items = draw(_named_items(STAGES, state, keep_used, set()))
        values[STAGES.name] = [
            _entry(draw, STAGES, named, draw(_stage_fields(reasons))) for named in items
        ]
    for kind in ALL_KINDS:
        if kind.name in values:
            node = document
            for part in kind.section[:-1]:
                node = node.setdefault(part, {})
            node[kind.section[-1]] = values[kind.name]
    return document


def shuffled(document: Any, rng: random.Random) -> Any:
    """The document with every order that has no meaning shuffled: mapping keys, and the
    items of all lists but stages, option lists and `renamed_from`."""
    return _shuffled(document, (), rng)


_ORDERED = {kind.section for kind in ALL_KINDS if kind.ordered}


def _shuffled(value: Any, path: tuple[str, ...], rng: random.Random) -> Any:
    if isinstance(value, dict):
        keys = list(value)
        rng.shuffle(keys)
        return {key: _shuffled(value[key], (*path, key), rng) for key in keys}
    if isinstance(value, list):
        items = [_shuffled(item, path, rng) for item in value]
        if path not in _ORDERED and path[-1:] != ("renamed_from",):
            rng.shuffle(items)
        return items
    return value


# Writing documents


class _QuotingDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Writes every string double-quoted, so no YAML reader takes it for anything else."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _quoted(dumper: Any, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')


_QuotingDumper.add_representer(str, _quoted)


YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def to_yaml(document: Any) -> str:
    """The document as crmconf reads it back: every string value escaped (`$${` for `${`)."""
    return yaml.dump(
        _values(document, escaped),
        Dumper=_QuotingDumper,
        allow_unicode=True,
        sort_keys=False,
        width=10**9,
    )


def escaped(text: str) -> str:
    """Text written so that crmconf reads `${` in it literally, not as a variable."""
    return text.replace("${", "$${")


def unescaped(text: str) -> str:
    """What crmconf reads from text that holds no variables: `$${` is a literal `${`."""
    return re.sub(r"\$\$\{", "${", text)


def _values(value: Any, change: Any) -> Any:
    """The document with `change` applied to every string value (keys stay as they are)."""
    if isinstance(value, dict):
        return {key: _values(item, change) for key, item in value.items()}
    if isinstance(value, list):
        return [_values(item, change) for item in value]
    return change(value) if isinstance(value, str) else value


def as_written(document: Any) -> Any:
    """A generated document as a user writes it: every `${` in a value escaped as `$${`."""
    return _values(document, escaped)


def read_export(text: str) -> Any:
    """An exported configuration as crmconf means it, read without crmconf's loader."""
    return _values(yaml.load(text, Loader=YAML_LOADER), unescaped)


# Comparable settings: crmconf's documented normalisation, written out


_STATUS = {
    spelling: value for value, spellings in _STATUS_SPELLINGS.items() for spelling in spellings
}
_GROUP_TYPE = {
    spelling: value for value, spellings in _GROUP_TYPE_SPELLINGS.items() for spelling in spellings
}


def _section(document: Mapping[str, Any], kind: Kind) -> tuple[bool, Any]:
    node: Any = document
    for part in kind.section:
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _item(kind: Kind, entry: Any) -> dict[str, Any]:
    if isinstance(entry, str):
        entry = {"title" if kind is STAGES else "name": entry}
    fields = {key: value for key, value in entry.items() if key not in ("renamed_from", "children")}
    item: dict[str, Any] = {"name": fields.pop("title" if kind is STAGES else "name").strip()}
    if kind is STAGES:
        reason = fields.get("rejection_reason")
        item["probability"] = int(fields["probability"])
        item["status"] = _STATUS[fields["status"]]
        item["rejection_reason"] = identity(reason) if reason is not None else None
    elif kind is CATEGORIES:
        item["show_on"] = fields["show_on"]
    elif kind is GROUPS:
        item["type"] = _GROUP_TYPE[fields["type"]]
        item["description"] = str(fields.get("description", "")).strip()
        item["members"] = sorted(set(fields.get("members", ())))
    return item


def _tree(kind: Kind, entries: list[Any], parent: str | None) -> Iterator[dict[str, Any]]:
    for entry in entries:
        item = {**_item(kind, entry), "parent": parent}
        yield item
        yield from _tree(kind, entry.get("children", []), identity(item["name"]))


def settings_of(document: Mapping[str, Any], kinds: list[Kind] | None = None) -> dict[str, Any]:
    """Each written kind's items as comparable data: names trimmed, labels as values,
    members as a set, references by identity; lists whose order means nothing sorted."""
    found: dict[str, Any] = {}
    for kind in ALL_KINDS if kinds is None else kinds:
        present, value = _section(document, kind)
        if not present:
            continue
        if kind.is_switch:
            found[kind.name] = bool(value)
            continue
        items = list(_tree(kind, value, None)) if kind.tree else [_item(kind, e) for e in value]
        found[kind.name] = items if kind.ordered else sorted(items, key=lambda item: item["name"])
    return found


def managed_kinds(document: Mapping[str, Any]) -> list[Kind]:
    return [kind for kind in ALL_KINDS if _section(document, kind)[0]]


# Sandbox states


_FAST_DISK = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
"""Memory-backed temporary files where there are some: every apply commits (fsyncs) thrice."""


@contextlib.contextmanager
def sandbox_copy(template_url: str) -> Iterator[tuple[Path, Target]]:
    """A private copy of a sandbox, opened; with a folder to write configurations in."""
    with tempfile.TemporaryDirectory(dir=_FAST_DISK) as folder:
        database = Path(folder) / "crm.db"
        shutil.copyfile(database_path(template_url), database)
        target = open_target(f"sqlite:///{database}")
        try:
            yield Path(folder), target
        finally:
            target.close()


def database_path(url: str) -> Path:
    return Path(str(make_url(url).database))


def table_rows(url: str) -> list[tuple[str, list[Any]]] | None:
    """Every row of every table of a sandbox, by table; None while it does not exist."""
    database = database_path(url)
    if not database.exists():
        return None
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return [
            (table, db.execute(f'SELECT * FROM "{table}" ORDER BY rowid').fetchall())
            for table in sorted(tables)
        ]


DATA_TABLES = (
    "customers",
    "customer_products",
    "customer_categories",
    "contacts",
    "contact_categories",
    "projects",
    "opportunities",
)
"""The CRM's own data: a configuration without `removed:` never changes a row of these."""


def data_rows(url: str) -> dict[str, list[Any]]:
    return {table: rows for table, rows in table_rows(url) or () if table in DATA_TABLES}


def orphans(url: str) -> list[Any]:
    """Rows pointing at rows that do not exist (SQLite's own foreign-key check)."""
    with contextlib.closing(sqlite3.connect(f"file:{database_path(url)}?mode=ro", uri=True)) as db:
        return db.execute("PRAGMA foreign_key_check").fetchall()


_USES: tuple[tuple[Any, Kind], ...] = (
    (schema.customers.c.industry_id, INDUSTRIES),
    (schema.customers.c.status_type_id, STATUS_TYPES),
    (schema.customers.c.contact_origin_id, CONTACT_ORIGINS),
    (schema.customers.c.source_id, SOURCES),
    (schema.opportunities.c.stage_id, STAGES),
    (schema.opportunities.c.sale_type_id, SALE_TYPES),
    (schema.opportunities.c.rejection_reason_id, REJECTION_REASONS),
)
_LINKS: tuple[tuple[Any, str, Kind], ...] = (
    (schema.customer_categories, "category_id", CATEGORIES),
    (schema.customer_products, "option_id", PRODUCTS),
)


@st.composite
def _data_changes(draw: st.DrawFn, state: State) -> list[Any]:
    """Statements pointing some customers and opportunities at settings, maybe new ones."""
    statements: list[Any] = []
    for column, kind in _USES:
        ids = [item.id for item in state.of(kind)]
        for _ in range(draw(st.integers(0, 3)) if ids else 0):
            # The demo has 40 customers and 30 opportunities, numbered from 1.
            row, item_id = draw(st.integers(1, 30)), draw(st.sampled_from(ids))
            table = column.table
            statements.append(update(table).where(table.c.id == row).values({column.name: item_id}))
    for table, column, kind in _LINKS:
        ids = [item.id for item in state.of(kind)]
        for _ in range(draw(st.integers(0, 3)) if ids else 0):
            row, item_id = draw(st.integers(1, 40)), draw(st.sampled_from(ids))
            values = {"customer_id": row, column: item_id}
            statements.append(insert(table).prefix_with("OR IGNORE").values(values))
    return statements


def use_settings(draw: st.DrawFn, target: Any) -> None:
    """Point some of the CRM's data at its settings, so that new items are in use too."""
    statements = draw(_data_changes(target.read(ALL_KINDS)))
    with target.connect() as connection:
        for statement in statements:
            connection.execute(statement)
        connection.commit()
