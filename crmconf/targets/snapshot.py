"""A target read once and then served from memory: `crmconf pull` plans against the
state it read twice (before and after editing the files) without reading the CRM again."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from crmconf.errors import TargetError
from crmconf.model.kind import Kind
from crmconf.model.state import State
from crmconf.planning.changes import Plan
from crmconf.targets.base import Capabilities, Feature, Target


class Snapshot(Target):
    """Reads through to `target` the first time, then answers from what it read."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.url = target.url
        self.state: State | None = None
        self._kinds: set[str] = set()

    @property
    def resolved_url(self) -> str:
        return self.target.resolved_url

    def capabilities(self) -> Capabilities:
        # The pipeline would be read live: pull never gates on the forecast.
        capabilities = self.target.capabilities()
        return replace(capabilities, features=capabilities.features - {Feature.PIPELINE})

    def read(self, kinds: Iterable[Kind]) -> State:
        wanted = list(kinds)
        if self.state is None or not {kind.name for kind in wanted} <= self._kinds:
            self.state = self.target.read(wanted)
            self._kinds = {kind.name for kind in wanted}
        items = {kind.name: self.state.of(kind) for kind in wanted}
        return replace(self.state, items=items)

    def apply(self, plan: Plan) -> None:
        raise TargetError(f"{self.url} was read for crmconf pull, which never writes to it")

    def applied_names(self, kinds: Iterable[Kind]) -> Mapping[str, Mapping[str, str]]:
        return self.target.applied_names(kinds)

    def account_heading(self) -> str | None:
        return self.target.account_heading()

    def requests_summary(self) -> str | None:
        return self.target.requests_summary()
