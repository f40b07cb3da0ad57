"""Saved plans: `crmconf plan -o plan.json`, reviewed, then `crmconf apply plan.json`.

The file records what the plan was computed from — the target's fingerprint and
the configuration's digest — so applying it after either changed is refused, as
Terraform refuses a stale plan. It holds no secret: target URLs are stored with
passwords hidden.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from crmconf.errors import PlanError
from crmconf.model.configuration import Configuration, Limits
from crmconf.model.state import Usage
from crmconf.planning.changes import Action, Change, Plan
from crmconf.planning.document import plan_document

SAVED_PLAN = "crmconf saved plan"


@dataclass(frozen=True)
class SavedPlan:
    plan: Plan
    target: str
    config_files: tuple[str, ...]
    config_digest: str
    limits: Limits
    allow_mass_change: bool


def dump_saved(plan: Plan, target: str, config: Configuration, allow_mass_change: bool) -> str:
    document = plan_document(plan)
    document["saved"] = {
        "kind": SAVED_PLAN,
        "target": target,
        "target_fingerprint": plan.target_fingerprint,
        "kinds_read": list(plan.kinds_read),
        "config_files": [str(Path(file).resolve()) for file in config.files],
        "config_digest": config.digest,
        "ids": [change.id for change in plan.changes],
        "final_order": {kind: list(names) for kind, names in plan.final_order.items()},
        "existing_counts": dict(plan.existing_counts),
        "limits": asdict(config.limits),
        "allow_mass_change": allow_mass_change,
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def is_saved_plan(path: Path) -> bool:
    """Whether a path names a saved plan rather than a configuration."""
    return path.suffix == ".json" and path.is_file()


def load_saved(path: Path) -> SavedPlan:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        saved = document["saved"]
        if saved["kind"] != SAVED_PLAN:
            raise KeyError("kind")
        changes = tuple(
            _change(data, change_id)
            for data, change_id in zip(document["changes"], saved["ids"], strict=True)
        )
        plan = Plan(
            changes,
            {kind: tuple(names) for kind, names in saved["final_order"].items()},
            (),
            saved["existing_counts"],
            tuple(saved["kinds_read"]),
            saved["config_digest"],
            saved["target_fingerprint"],
        )
        return SavedPlan(
            plan,
            saved["target"],
            tuple(saved["config_files"]),
            saved["config_digest"],
            Limits(**saved["limits"]),
            bool(saved["allow_mass_change"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise PlanError(
            f"{path}: not a saved crmconf plan ({error.__class__.__name__}: {error}); "
            "make one with 'crmconf plan CONFIG -o FILE.json'"
        ) from None


def _change(data: dict[str, Any], change_id: int | str | None) -> Change:
    usage = data.get("usage")
    return Change(
        kind=data["kind"],
        action=Action(data["action"]),
        before=data["before"],
        after=data["after"],
        changed=tuple(data["changed"]),
        id=change_id,
        usage=Usage(**usage) if usage is not None else None,
        migration=data.get("migration"),
        manual_step=data.get("manual_step"),
    )


def refuse_if_config_changed(saved: SavedPlan) -> None:
    """The configuration files must still be exactly those the plan was made from."""
    digest = hashlib.sha256()
    for file in saved.config_files:
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError:
            raise PlanError(
                f"stale plan: {file} is gone since the plan was made; plan again"
            ) from None
        digest.update(path.name.encode() + b"\0" + data + b"\0")
    if digest.hexdigest() != saved.config_digest:
        raise PlanError("stale plan: the configuration changed since the plan was made; plan again")
