"""The 24SevenOffice request budget: one count of requests per machine, in a locked file.

The vendor allows 7,200 requests an hour (per IP address, the developer FAQ
says); past it every request is refused until the hour ends ("Quarantine ends
at …"). Every crmconf process on a machine shares one address, so they share
one budget: a small JSON file, changed only under an exclusive `flock`, that
counts requests per minute for the last hour and remembers a quarantine the
service announced. Threads of one process (`--parallel`) and separate
processes alike take from it.

With $CRMCONF_STATE set, the same count is kept in the state backend instead, in a row
held for each change: every machine using the backend takes from one budget.

When the budget is used up a request either waits, saying so once a minute,
until enough of the hour's requests have aged out, or is refused with the
numbers, as CRMCONF_24SO_OVER_BUDGET says.
"""

from __future__ import annotations

import fcntl
import json
import logging
import math
import os
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from crmconf.errors import TargetError
from crmconf.targets.variables import STATE_VARIABLE

log = logging.getLogger(__name__)

ENV_BUDGET: Final = "CRMCONF_24SO_BUDGET"
ENV_BUDGET_FILE: Final = "CRMCONF_24SO_BUDGET_FILE"
ENV_OVER_BUDGET: Final = "CRMCONF_24SO_OVER_BUDGET"
DEFAULT_BUDGET: Final = 6000
"""Requests per hour: well under the vendor's 7,200, leaving room for other tools."""
VENDOR_LIMIT: Final = 7200
_WINDOW: Final = 3600
_PROGRESS_EVERY: Final = 60.0


class OverBudget(TargetError):
    """The machine's request budget for the hour is used up and the run was told not to wait."""


class Quarantined(TargetError):
    """24SevenOffice blocks this address's requests until the quarantine ends."""


class RequestBudget:
    """Take one request at a time from the machine's hourly budget (thread- and process-safe)."""

    def __init__(
        self,
        path: Path,
        per_hour: int = DEFAULT_BUDGET,
        *,
        wait: bool = True,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        shared: str | None = None,
    ) -> None:
        """`shared`: a state backend URL to keep the count in, for every machine using it."""
        if per_hour < 1:
            raise ValueError("per_hour must be at least 1")
        self.path = path
        self._shared = shared
        self._backend: Any = None  # the state backend, opened on first use and kept
        self.where = "the state backend ($CRMCONF_STATE)" if shared else str(path)
        self.per_hour = per_hour
        self._wait = wait
        self._clock = clock
        self._sleep = sleep

    @property
    def shared(self) -> bool:
        """Whether the count is the state backend's, shared by every machine using it."""
        return self._shared is not None

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> RequestBudget:
        text = environ.get(ENV_BUDGET, "").strip()
        per_hour = DEFAULT_BUDGET
        if text:
            if not text.isdigit() or not 1 <= int(text) <= VENDOR_LIMIT:
                raise TargetError(
                    f"{ENV_BUDGET} must be a whole number of requests per hour from 1 to "
                    f"{VENDOR_LIMIT} (the vendor's limit), not {text!r}"
                )
            per_hour = int(text)
        mode = environ.get(ENV_OVER_BUDGET, "").strip().lower() or "wait"
        if mode not in ("wait", "refuse"):
            raise TargetError(f"{ENV_OVER_BUDGET} must be wait or refuse, not {mode!r}")
        shared = environ.get(STATE_VARIABLE, "").strip() or None
        return cls(_budget_file(environ), per_hour, wait=mode == "wait", shared=shared)

    def take(self) -> None:
        """Count one request, waiting for room or raising OverBudget / Quarantined."""
        announced = -math.inf
        while True:
            now = self._clock()
            with self._locked() as state:
                blocked_until = float(state.get("blocked_until", 0))
                if blocked_until > now:
                    raise _quarantined(blocked_until, state.get("announced", ""))
                minutes = _recent(state, now)
                used = sum(minutes.values())
                if used < self.per_hour:
                    minute = str(int(now // 60))
                    minutes[minute] = minutes.get(minute, 0) + 1
                    state["minutes"] = minutes
                    return
                room_at = _room_at(minutes, used - self.per_hour + 1)
            if not self._wait:
                raise OverBudget(
                    f"24SevenOffice request budget used up: {used} of {self.per_hour} requests "
                    f"in the last hour ({self.where}); this run needs at least 1 "
                    f"more, room at {_clock_time(room_at)}. Run again then, or set "
                    f"{ENV_OVER_BUDGET}=wait to wait"
                )
            if now - announced >= _PROGRESS_EVERY:
                log.warning(
                    "24SevenOffice request budget used up (%d of %d in the last hour); "
                    "waiting until %s for room",
                    used,
                    self.per_hour,
                    _clock_time(room_at),
                )
                announced = now
            self._sleep(max(0.05, min(room_at - now, _PROGRESS_EVERY)))

    def quarantine(self, announced: str) -> Quarantined:
        """Record the service's quarantine so every process here stops; return the error."""
        now = self._clock()
        until = (now // _WINDOW + 1) * _WINDOW  # the vendor blocks until the hour ends
        with self._locked() as state:
            state["blocked_until"] = max(until, float(state.get("blocked_until", 0)))
            state["announced"] = announced
        return _quarantined(until, announced)

    def used(self) -> int:
        """Requests counted in the last hour on this machine."""
        with self._locked() as state:
            return sum(_recent(state, self._clock()).values())

    def _locked(self) -> AbstractContextManager[dict[str, Any]]:
        if self._shared is None:
            return _LockedState(self.path)
        if self._backend is None:
            from crmconf.targets.state_backend import StateBackend

            self._backend = StateBackend.open(self._shared)
        state: AbstractContextManager[dict[str, Any]] = self._backend.budget_state("24so")
        return state


class _LockedState:
    """The budget file's content, read and written back under an exclusive lock."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._file: Any = None
        self._state: dict[str, Any] = {}

    def __enter__(self) -> dict[str, Any]:
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            if self._path.exists() and not self._path.is_file():
                # Opening a FIFO waits for a writer; a device is read for ever.
                raise TargetError(
                    f"24SevenOffice request budget: cannot use {self._path}: not a regular "
                    f"file; set {ENV_BUDGET_FILE} to a writable file"
                )
            self._file = open(self._path, "a+b")
        except OSError as exc:
            raise TargetError(
                f"24SevenOffice request budget: cannot open {self._path}: "
                f"{exc.strerror or type(exc).__name__}; set {ENV_BUDGET_FILE} to a writable file"
            ) from None
        fcntl.flock(self._file.fileno(), fcntl.LOCK_EX)
        try:
            self._file.seek(0)
            self._state = _counted(self._file.read(_MAX_BYTES + 1))
        except BaseException:
            self._release()  # else every other request of the run waits on this lock
            raise
        return self._state

    def __exit__(self, *exc_info: object) -> None:
        try:
            if exc_info[0] is None:
                self._file.seek(0)
                self._file.truncate()
                self._file.write(json.dumps(self._state).encode())
                self._file.flush()
        finally:
            self._release()

    def _release(self) -> None:
        fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
        self._file.close()


_MAX_BYTES: Final = 1024 * 1024
"""Far more than an hour of per-minute counts; a larger file is not one crmconf wrote."""


def _counted(data: bytes) -> dict[str, Any]:
    """The budget file's state; a torn, foreign or oversized file starts the count afresh
    rather than failing every run (the vendor's quarantine still stops a run that finds it)."""
    if len(data) > _MAX_BYTES:
        return {}
    try:
        loaded = json.loads(data.decode("utf-8") or "{}")
    except (ValueError, RecursionError):  # not UTF-8, not JSON, nested past recursion
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _budget_file(environ: Mapping[str, str]) -> Path:
    explicit = environ.get(ENV_BUDGET_FILE, "").strip()
    if explicit:
        return Path(explicit).expanduser()
    state_home = environ.get("XDG_STATE_HOME", "").strip() or os.path.expanduser("~/.local/state")
    return Path(state_home) / "crmconf" / "24so-requests.json"


def _recent(state: Mapping[str, Any], now: float) -> dict[str, int]:
    """Per-minute counts of the last hour (older minutes dropped)."""
    oldest = int(now // 60) - _WINDOW // 60 + 1
    minutes = state.get("minutes", {})
    if not isinstance(minutes, dict):
        return {}
    return {
        minute: count
        for minute, count in minutes.items()
        if minute.isdigit() and int(minute) >= oldest and isinstance(count, int)
    }


def _room_at(minutes: Mapping[str, int], needed: int) -> float:
    """When enough of the oldest minutes have left the hour to free `needed` requests."""
    freed = 0
    for minute in sorted(minutes, key=int):
        freed += minutes[minute]
        if freed >= needed:
            return (int(minute) + 1) * 60 + _WINDOW - 60
    return 0.0


def _clock_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%H:%M:%S UTC")


def _quarantined(until: float, announced: str) -> Quarantined:
    said = f' (the service said: "{announced}")' if announced else ""
    return Quarantined(
        "24SevenOffice blocks requests from this machine until about "
        f"{_clock_time(until)}: the vendor's limit of {VENDOR_LIMIT} requests per hour was "
        f"exceeded{said}. Nothing more was sent; run again after that"
    )
