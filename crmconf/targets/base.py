"""The narrow interface every target (CRM) implements: read, apply, declare capabilities."""

from __future__ import annotations

import getpass
from abc import ABC, abstractmethod
from collections.abc import Iterable
from types import TracebackType

from crmconf.model.kind import Kind
from crmconf.model.state import State
from crmconf.planning.changes import Capabilities, Plan
from crmconf.targets.visibility import Unreadable

__all__ = ["Capabilities", "Target"]


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (e.g. in some containers)
        return "unknown"


class Target(ABC):
    """A CRM whose settings crmconf reads and changes."""

    url: str
    """Where the target is, safe to print (never holds a secret)."""
    actor: str = _os_user()
    """Who changes the target, as recorded in its history (the CLI's --actor)."""
    lock_timeout: float = 0.0
    """Seconds to wait for another writer to finish before failing (--lock-timeout)."""

    @abstractmethod
    def capabilities(self) -> Capabilities:
        """What this target can change, per kind."""

    def unreadable(self) -> Unreadable:
        """Kinds and fields this target cannot read: left out of plans, listed as checks."""
        return Unreadable()

    @abstractmethod
    def read(self, kinds: Iterable[Kind]) -> State:
        """The current settings of these kinds, with usage counts. Never writes."""

    @abstractmethod
    def apply(self, plan: Plan) -> None:
        """Carry out a plan's automatic changes in order (and the data moves of manual
        deletes where the target can move data); all or nothing where the target allows."""

    def close(self) -> None:  # noqa: B027 - optional hook: most targets hold nothing open
        """Release connections."""

    def __enter__(self) -> Target:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
