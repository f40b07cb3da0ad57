"""Saved plans: `crmconf plan -o plan.json`, reviewed, then `crmconf apply plan.json`.

A saved plan is a commitment, not an instruction. The file records the changes a
reviewer saw and what they were computed from: where the configuration is (path,
environment, variables file, --only), digests of its files and of what it declares,
the resolved target and the fingerprint of its state, and the policy. Applying it
loads the configuration again and plans again against the target as it is now; the
new plan is applied only when both digests and the fingerprint match and its changes
are exactly the saved ones. Otherwise the plan is stale (something changed: plan
again) or altered (the file is not what crmconf wrote). Nothing in the file but that
record is ever used: no id, no change, no flag is applied as written.

The file holds no secret: target URLs are stored with passwords hidden.
"""

from __future__ import annotations

import hashlib
import json
import stat
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from crmconf.errors import AlteredPlanError, PlanError, StalePlanError
from crmconf.model.configuration import Configuration, Limits, Source
from crmconf.planning.changes import Plan, Policy
from crmconf.planning.document import change_document, plan_document

SAVED_PLAN = "crmconf saved plan"
SAVED_VERSION = 2
MAX_BYTES = 64 * 1024 * 1024
"""Larger than any plan of a CRM's settings; a bigger file is not one crmconf wrote."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class _Configuration(_Strict):
    path: str
    env: str | None
    vars_file: str | None
    only: list[str] | None
    exclude: list[str] | None
    users: list[list[str]] | None = None
    users_of: str = ""
    files_digest: str
    content_digest: str


class _Policy(_Strict):
    max_change_fraction: float
    min_items: int
    max_deletes: int
    max_forecast_change_percent: float | None
    max_forecast_change_amount: float | None
    allow_mass_change: bool
    allow_forecast_change: bool
    require_complete: bool


class _Record(_Strict):
    kind: str
    version: int
    target: str
    target_fingerprint: str
    configuration: _Configuration
    policy: _Policy
    checksum: str


@dataclass(frozen=True)
class Commitment:
    """What a saved plan commits to; see the module's description."""

    target: str
    target_fingerprint: str
    source: Source
    only: tuple[str, ...] | None
    exclude: tuple[str, ...] | None
    files_digest: str
    content_digest: str
    policy: Policy
    changes: list[Any]

    def configuration(self, load: Callable[..., Configuration]) -> Configuration:
        """The configuration loaded again from where the plan recorded it; StalePlanError
        unless it is the same as when the plan was made."""
        if not Path(self.source.path).exists():
            raise StalePlanError(
                f"stale plan: {self.source.path} is gone since the plan was made; plan again"
            )
        if self.source.vars_file is not None and not Path(self.source.vars_file).exists():
            raise StalePlanError(
                f"stale plan: {self.source.vars_file} is gone since the plan was made; plan again"
            )
        users = dict(self.source.users) if self.source.users is not None else None
        config = load(
            self.source.path,
            env=self.source.env,
            vars_file=self.source.vars_file,
            users=users,
            users_of=self.source.users_of,
        )
        if config.digest != self.files_digest or config.content_digest != self.content_digest:
            raise StalePlanError(
                "stale plan: the configuration changed since the plan was made "
                f"({self.source.path}); plan again"
            )
        return config

    def refuse_unless_same(self, plan: Plan) -> None:
        """The plan made again must be the one saved."""
        if plan.target_fingerprint != self.target_fingerprint:
            raise StalePlanError(
                "stale plan: the target changed since the plan was made; plan again"
            )
        if [change_document(change) for change in plan.changes] != self.changes:
            raise AlteredPlanError(
                "this plan file was altered: its changes are not the ones crmconf plans from "
                "the configuration and target it records; nothing was applied. Plan again"
            )


def dump(plan: Plan) -> str:
    """The saved-plan file of a plan made from a configuration loaded from files."""
    if plan.source is None:
        raise PlanError(
            "only a plan of a configuration loaded from files can be saved: load it with "
            "crmconf.load(PATH) (the CLI always does)"
        )
    document = plan_document(plan)
    limits = plan.policy.limits
    document["saved"] = {
        "kind": SAVED_PLAN,
        "version": SAVED_VERSION,
        "target": plan.target,
        "target_fingerprint": plan.target_fingerprint,
        "configuration": {
            "path": plan.source.path,
            "env": plan.source.env,
            "vars_file": plan.source.vars_file,
            "only": list(plan.only) if plan.only is not None else None,
            "exclude": list(plan.exclude) if plan.exclude is not None else None,
            "users": [list(pair) for pair in plan.source.users]
            if plan.source.users is not None
            else None,
            "users_of": plan.source.users_of,
            "files_digest": plan.config_digest,
            "content_digest": plan.content_digest,
        },
        "policy": {
            **asdict(limits),
            "allow_mass_change": plan.policy.allow_mass_change,
            "allow_forecast_change": plan.policy.allow_forecast_change,
            "require_complete": plan.policy.require_complete,
        },
    }
    document["saved"]["checksum"] = _checksum(document)
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def is_saved_plan(path: Path) -> bool:
    """Whether a path names a saved plan rather than a configuration."""
    return path.suffix == ".json" and path.is_file()


def read(path: Path) -> Commitment:
    """The commitment of a saved-plan file; AlteredPlanError for anything crmconf did not
    write as it is."""
    document = _document(path)
    try:
        record = _Record.model_validate(document.get("saved"))
        changes = document["changes"]
        if not isinstance(changes, list):
            raise TypeError("changes is not a list")
    except (ValidationError, KeyError, TypeError, AttributeError) as error:
        raise AlteredPlanError(
            f"{path}: not a saved plan crmconf can apply ({_first_problem(error)}); "
            "make one with 'crmconf plan CONFIG -o FILE.json'"
        ) from None
    if record.kind != SAVED_PLAN:
        raise AlteredPlanError(f"{path}: not a crmconf saved plan; make one with 'crmconf plan -o'")
    if record.version != SAVED_VERSION:
        raise StalePlanError(f"{path} was saved by another version of crmconf; plan again")
    if _checksum(document) != record.checksum:
        raise AlteredPlanError(
            f"this plan file was altered since crmconf wrote it ({path}); nothing was applied. "
            "Plan again, and review the new plan"
        )
    source = record.configuration
    policy = record.policy
    return Commitment(
        target=record.target,
        target_fingerprint=record.target_fingerprint,
        source=Source(
            source.path,
            source.env,
            source.vars_file,
            tuple((pair[0], pair[1]) for pair in source.users)
            if source.users is not None
            else None,
            source.users_of,
        ),
        only=tuple(source.only) if source.only is not None else None,
        exclude=tuple(source.exclude) if source.exclude is not None else None,
        files_digest=source.files_digest,
        content_digest=source.content_digest,
        policy=Policy(
            Limits(
                policy.max_change_fraction,
                policy.min_items,
                policy.max_deletes,
                policy.max_forecast_change_percent,
                policy.max_forecast_change_amount,
            ),
            allow_mass_change=policy.allow_mass_change,
            require_complete=policy.require_complete,
            allow_forecast_change=policy.allow_forecast_change,
        ),
        changes=changes,
    )


def _document(path: Path) -> dict[str, Any]:
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise AlteredPlanError(f"{path}: a saved plan is a regular file")
        if info.st_size > MAX_BYTES:
            raise AlteredPlanError(f"{path}: too large to be a saved plan crmconf wrote")
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
        document = json.loads(data.decode("utf-8"))
    except OSError as error:
        raise PlanError(f"cannot read {path}: {error.strerror}") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise AlteredPlanError(
            f"{path}: not a saved plan crmconf can apply (not JSON: {error.__class__.__name__}); "
            "make one with 'crmconf plan CONFIG -o FILE.json'"
        ) from None
    if not isinstance(document, dict):
        raise AlteredPlanError(f"{path}: not a saved plan crmconf can apply")
    return document


def _checksum(document: dict[str, Any]) -> str:
    """SHA-256 of the whole document but the checksum itself, keys sorted: an edit by hand
    that forgets to recompute it is caught here, any other by planning again."""
    body = {**document, "saved": {k: v for k, v in document["saved"].items() if k != "checksum"}}
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _first_problem(error: Exception) -> str:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "saved"
        return f"{where}: {first['msg']}"
    return str(error)
