"""Sign-off of what a target cannot read: who checked it by hand, when, and until when.

24SevenOffice cannot read stages, rejection reasons, sale types, the additional
customer information or the feature switch, so a plan lists them as checks for a
person. `crmconf confirm` records that a named person did such a check: the digest of
exactly what was checked (crmconf.targets.visibility.Check), when, and an expiry.
Later plans leave out a check whose confirmation still holds — same digest, not
expired — and say so; a changed configuration or an expired confirmation brings the
check back, saying why. This is an attestation, never drift detection: crmconf cannot
see whether anyone changed those settings in the CRM since.

Confirmations live in the state backend's history ($CRMCONF_STATE), shared by every
runner; without it, in a local file (`.crmconf/confirmations.json`, or
$CRMCONF_CONFIRMATIONS), which only this machine sees.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from crmconf.errors import TargetError

FILE_VARIABLE = "CRMCONF_CONFIRMATIONS"
DEFAULT_FILE = Path(".crmconf") / "confirmations.json"
DEFAULT_DAYS = 90
COMMAND = "confirm"


@dataclass(frozen=True)
class Confirmation:
    """A person's word that one check of one target was done by hand."""

    target: str
    kind: str
    field: str | None
    digest: str
    by: str
    at: str
    """When, as 2026-11-20T10:00:00Z."""
    expires: str
    """The last day it holds, as 2027-02-18."""

    @property
    def day(self) -> str:
        return self.at[:10]

    def expired(self, today: date) -> bool:
        return date.fromisoformat(self.expires) < today

    @classmethod
    def written(cls, entry: Any) -> Confirmation | None:
        """The confirmation an entry of a store holds, if it is one crmconf wrote: the
        fields it has, as text, with a day it expires on; else None."""
        if not isinstance(entry, dict) or set(entry) != _FIELDS:
            return None
        if not all(isinstance(entry[name], str) for name in _FIELDS - {"field"}):
            return None
        if entry["field"] is not None and not isinstance(entry["field"], str):
            return None
        try:
            date.fromisoformat(entry["expires"])
        except ValueError:
            return None
        return cls(**entry)


_FIELDS = {field.name for field in fields(Confirmation)}
_MAX_BYTES = 16 * 1024 * 1024
"""Far more than any machine's confirmations; a larger file is not one crmconf wrote."""


def confirmation(
    target: str, kind: str, field: str | None, digest: str, by: str, days: int
) -> Confirmation:
    now = datetime.now(UTC)
    expires = (now.date() + timedelta(days=days)).isoformat()
    return Confirmation(
        target, kind, field, digest, by, now.strftime("%Y-%m-%dT%H:%M:%SZ"), expires
    )


class Store:
    """Where confirmations are kept."""

    shared: bool
    where: str

    def record(self, confirmations: Iterable[Confirmation]) -> None:
        raise NotImplementedError

    def all(self, target: str) -> list[Confirmation]:
        """Every confirmation of a target, oldest first."""
        raise NotImplementedError

    def latest(self, target: str) -> dict[tuple[str, str | None], Confirmation]:
        """The newest confirmation of each check of a target."""
        found: dict[tuple[str, str | None], Confirmation] = {}
        for entry in self.all(target):
            found[(entry.kind, entry.field)] = entry
        return found


class FileStore(Store):
    """A JSON file on this machine: nobody else sees what it holds."""

    shared = False

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)

    def _entries(self) -> list[dict[str, Any]]:
        try:
            if self.path.exists() and not self.path.is_file():
                raise ValueError("not a regular file")  # a FIFO waits, a device never ends
            with self.path.open("rb") as handle:
                data = json.loads(handle.read(_MAX_BYTES + 1).decode("utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError, RecursionError) as error:
            reason = "nested deeper than any" if isinstance(error, RecursionError) else error
            raise TargetError(
                f"cannot read the confirmations in {self.path}: {reason}; move the file away "
                "to start anew (its confirmations are then lost)"
            ) from None
        if not isinstance(data, dict) or not isinstance(data.get("confirmations"), list):
            raise TargetError(f"{self.path} is not a crmconf confirmations file")
        entries: list[dict[str, Any]] = data["confirmations"]
        return entries

    def record(self, confirmations: Iterable[Confirmation]) -> None:
        entries = [*self._entries(), *(asdict(entry) for entry in confirmations)]
        text = json.dumps({"confirmations": entries}, ensure_ascii=False, indent=2) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with tempfile.NamedTemporaryFile(
                "w", encoding="utf-8", dir=self.path.parent, prefix=".confirmations.", delete=False
            ) as handle:
                handle.write(text)
            os.replace(handle.name, self.path)
        except OSError as error:
            raise TargetError(f"cannot write {self.path}: {error.strerror}") from None

    def all(self, target: str) -> list[Confirmation]:
        found = []
        for entry in self._entries():
            confirmed = Confirmation.written(entry)
            if confirmed is None:
                raise TargetError(f"{self.path} holds an entry crmconf did not write")
            if confirmed.target == target:
                found.append(confirmed)
        return found


class BackendStore(Store):
    """The state backend's history, which every runner sharing $CRMCONF_STATE reads."""

    shared = True

    def __init__(self, url: str) -> None:
        self.url = url
        self.where = "the state backend ($CRMCONF_STATE)"

    def record(self, confirmations: Iterable[Confirmation]) -> None:
        from crmconf.targets.state_backend import StateBackend

        by_target: dict[str, list[Confirmation]] = {}
        for entry in confirmations:
            by_target.setdefault(entry.target, []).append(entry)
        with StateBackend.open(self.url) as state:
            for target, entries in by_target.items():
                state.record(
                    target,
                    command=COMMAND,
                    actor=entries[0].by,
                    outcome="confirmed",
                    summary=summary(entries),
                    changes=[asdict(entry) for entry in entries],
                )

    def all(self, target: str) -> list[Confirmation]:
        from crmconf.targets.state_backend import StateBackend

        with StateBackend.open(self.url) as state:
            entries = state.history(target)
        found = []
        for entry in reversed(entries):  # oldest first
            if entry.command != COMMAND:
                continue
            for change in entry.changes:
                confirmed = Confirmation.written(change)
                if confirmed is not None:  # else not one crmconf wrote: never trusted
                    found.append(confirmed)
        return found


def open_store(environ: Mapping[str, str] = os.environ) -> Store:
    from crmconf.targets.variables import STATE_VARIABLE

    url = environ.get(STATE_VARIABLE)
    if url:
        return BackendStore(url)
    return FileStore(Path(environ.get(FILE_VARIABLE) or DEFAULT_FILE))


def summary(entries: Iterable[Confirmation]) -> str:
    entries = list(entries)
    what = ", ".join(f"{e.kind}.{e.field}" if e.field else e.kind for e in entries)
    return f"confirmed by hand: {what} (until {entries[0].expires})" if entries else ""
