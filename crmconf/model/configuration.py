"""The desired state: every managed kind's records, as the configuration declares them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from crmconf.errors import Problem
from crmconf.model.kind import Kind, Record


@dataclass(frozen=True)
class Configuration:
    """A loaded, validated configuration.

    Only kinds whose section is written are in `sections`: an absent section is not
    managed, and an empty one means "none of this kind".
    """

    sections: Mapping[str, tuple[Record, ...]]
    files: tuple[str, ...] = ()
    digest: str = ""
    """SHA-256 of the files read, so a saved plan can tell the configuration changed."""
    warnings: tuple[Problem, ...] = field(default=(), compare=False)

    def manages(self, kind: Kind) -> bool:
        return kind.name in self.sections

    def records(self, kind: Kind) -> tuple[Record, ...]:
        return self.sections.get(kind.name, ())

    def only(self, kinds: set[str]) -> Configuration:
        """The same configuration limited to some kinds (adopting one area at a time)."""
        return Configuration(
            {name: records for name, records in self.sections.items() if name in kinds},
            self.files,
            self.digest,
            self.warnings,
        )
