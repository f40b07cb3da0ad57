"""The interface every target (CRM) implements: read, apply, and declare what it can do.

What a target can do is declared once, by `capabilities()` (crmconf.targets.capabilities);
callers ask it, never the target's class. The optional features' methods below refuse
by default, naming the missing capability; a target that declares a feature overrides
its methods (a test holds every target to that).
"""

from __future__ import annotations

import getpass
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING

from crmconf.model.kind import Kind
from crmconf.model.state import State
from crmconf.planning.changes import Plan
from crmconf.targets.capabilities import Capabilities, Feature

if TYPE_CHECKING:
    from crmconf.pipeline.forecast import Pipeline
    from crmconf.targets.customers import DeletedCustomer, Restored
    from crmconf.targets.sandbox.history import HistoryEntry, RolledBack

__all__ = ["Capabilities", "Feature", "Target"]


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

    @property
    def resolved_url(self) -> str:
        """The URL naming this very target from anywhere (a relative path made absolute),
        safe to print: what a saved plan records."""
        return self.url

    @abstractmethod
    def capabilities(self) -> Capabilities:
        """What this target can read and change, per kind, and its optional features."""

    @abstractmethod
    def read(self, kinds: Iterable[Kind]) -> State:
        """The current settings of these kinds, with usage counts. Never writes."""

    @abstractmethod
    def apply(self, plan: Plan) -> None:
        """Carry out a plan's automatic changes in order (and the data moves of manual
        deletes where the target can move data); all or nothing where the target allows.
        Refuses a stale plan (crmconf.planning.safety.refuse_if_stale) before any write."""

    # Optional features: each refuses unless the target declares it and overrides it.

    def history(self) -> list[HistoryEntry]:
        """Applies, moves and rollbacks recorded in the target, newest first (HISTORY)."""
        self.capabilities().require(Feature.HISTORY, self.url)
        raise NotImplementedError

    def rollback(
        self, entry_id: int, cascade: bool = False, skip_changed: bool = False
    ) -> list[RolledBack]:
        """Undo a recorded entry exactly, or refuse; what was undone (HISTORY)."""
        self.capabilities().require(Feature.HISTORY, self.url)
        raise NotImplementedError

    def count_customers(self, kind: Kind, name: str) -> int:
        """Customers of an industry or status type (MOVE_CUSTOMERS)."""
        self.capabilities().require(Feature.MOVE_CUSTOMERS, self.url)
        raise NotImplementedError

    def move_customers(self, kind: Kind, source: str, destination: str) -> tuple[int, int | None]:
        """Move every customer of one item to another; (moved, history entry), no entry
        when nothing moved (MOVE_CUSTOMERS)."""
        self.capabilities().require(Feature.MOVE_CUSTOMERS, self.url)
        raise NotImplementedError

    def pipeline(self) -> Pipeline:
        """Every opportunity summed per stage and owner. Never writes (PIPELINE)."""
        self.capabilities().require(Feature.PIPELINE, self.url)
        raise NotImplementedError

    def deleted_customers(self, ids: Iterable[int] | None = None) -> tuple[DeletedCustomer, ...]:
        """The deleted customers (with `ids`: exactly those). Never writes
        (LIST_DELETED_CUSTOMERS)."""
        self.capabilities().require(Feature.LIST_DELETED_CUSTOMERS, self.url)
        raise NotImplementedError

    def restore_customers(self, ids: Iterable[int]) -> Restored:
        """Restore deleted customers, all or none (RESTORE_CUSTOMERS)."""
        self.capabilities().require(Feature.RESTORE_CUSTOMERS, self.url)
        raise NotImplementedError

    def applied_names(self, kinds: Iterable[Kind]) -> Mapping[str, Mapping[str, str]]:
        """Per kind, the name crmconf last applied to each item id (as text), so that
        `crmconf pull` tells a rename in the CRM from a removal and an addition; empty
        where the target keeps no such record."""
        return {}

    # What a run says about the target besides its plan: None where there is nothing to say.

    def account_heading(self) -> str | None:
        """One line naming the account (client company) a run acts for, for the top of a
        plan, where one login reaches several (24SevenOffice)."""
        return None

    def api_requests(self) -> int | None:
        """Requests this target sent so far, behind a rate-limited API."""
        return None

    def requests_summary(self) -> str | None:
        """One line: this run's requests and the budget they were taken from."""
        return None

    def restore_by_hand(self) -> str | None:
        """Where a person restores a deleted customer in the CRM's UI, for a target that lists
        deleted customers but cannot restore them; None where crmconf knows no way."""
        return None

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
