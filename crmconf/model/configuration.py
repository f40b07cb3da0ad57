"""The desired state: every managed kind's records, as the configuration declares them."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

from crmconf.errors import Problem
from crmconf.model.kind import Kind, Record


@dataclass(frozen=True)
class Limits:
    """How much of a kind one plan may change before it needs --allow-mass-change."""

    max_change_fraction: float = 0.3
    """Share of a kind's existing items updated or deleted, for kinds of `min_items` or more."""
    min_items: int = 10
    max_deletes: int = 3
    """Deletes of one kind, whatever its size."""
    max_forecast_change_percent: float | None = None
    """How far (in % of its value before) one plan may move the weighted forecast, in total
    and of any sales group; None: no limit."""
    max_forecast_change_amount: float | None = None
    """How far (an amount) one plan may move it, in total and of any sales group."""


@dataclass(frozen=True)
class Source:
    """Where a configuration was loaded from, so that a saved plan can load it again."""

    path: str
    """The file or directory, resolved."""
    env: str | None = None
    """The environment overlay (`envs/NAME/`), if any."""
    vars_file: str | None = None
    """The file `${NAME}` values came from besides the process environment, resolved."""
    users: tuple[tuple[str, str], ...] | None = None
    """The user aliases resolved in it (alias, user), and whose map they are (`users_of`)."""
    users_of: str = ""


@dataclass(frozen=True)
class Configuration:
    """A loaded, validated configuration.

    Only kinds whose section is written are in `sections`: an absent section is not
    managed, and an empty one means "none of this kind".
    """

    sections: Mapping[str, tuple[Record, ...]]
    removals: Mapping[str, tuple[Record, ...]] = field(default_factory=dict)
    """Per kind, items under `removed:`: fields ``move_to`` and ``clear``."""
    files: tuple[str, ...] = ()
    digest: str = ""
    """SHA-256 of the files read, so a saved plan can tell the configuration changed."""
    warnings: tuple[Problem, ...] = field(default=(), compare=False)
    limits: Limits = field(default_factory=Limits)
    """The mass-change guard's limits, from the `safety:` section."""
    prune: Mapping[str, bool] = field(default_factory=dict)
    """Kinds whose extra items in the CRM are left alone (`prune: {kind: false}`)."""
    source: Source | None = field(default=None, compare=False)
    rules: tuple[str, ...] = field(default=(), compare=False)
    """The ids of the configuration's own rules (`rules.check`), which a tenant may switch off."""

    @functools.cached_property
    def content_digest(self) -> str:
        """SHA-256 of what the configuration declares, once files are merged and `${NAME}`
        values substituted: two loads with the same digest plan the same changes."""
        document = {
            "sections": {
                name: [_record(r) for r in records] for name, records in self.sections.items()
            },
            "removals": {
                name: [_record(r) for r in records] for name, records in self.removals.items()
            },
            "limits": asdict(self.limits),
            "prune": dict(self.prune),
        }
        text = json.dumps(document, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def prunes(self, kind: Kind) -> bool:
        return self.prune.get(kind.name, True)

    def manages(self, kind: Kind) -> bool:
        return kind.name in self.sections

    def records(self, kind: Kind) -> tuple[Record, ...]:
        return self.sections.get(kind.name, ())

    def removal(self, kind: Kind, key: str) -> Record | None:
        """The `removed:` entry for an item of a kind, by identity."""
        by_key = self._removals_by_key.get(kind.name)
        return by_key.get(key) if by_key else None

    @functools.cached_property
    def _removals_by_key(self) -> dict[str, dict[str, Record]]:
        # The planner asks once per deleted item: a lookup, not a scan of `removed:`.
        index: dict[str, dict[str, Record]] = {}
        for name, records in self.removals.items():
            by_key = index[name] = {}
            for record in records:
                by_key.setdefault(record.key, record)  # the first entry wins, as in a scan
        return index

    def only(self, kinds: set[str]) -> Configuration:
        """The same configuration limited to some kinds (adopting one area at a time)."""
        return Configuration(
            {name: records for name, records in self.sections.items() if name in kinds},
            {name: records for name, records in self.removals.items() if name in kinds},
            self.files,
            self.digest,
            self.warnings,
            self.limits,
            {name: value for name, value in self.prune.items() if name in kinds},
            self.source,
            self.rules,
        )


def _record(record: Record) -> list[object]:
    return [record.name, dict(record.fields), list(record.renamed_from), record.protect]
