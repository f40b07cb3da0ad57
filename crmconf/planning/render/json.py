"""Plans as JSON for policy gates and CI (the document itself: crmconf.planning.document)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from crmconf.planning.changes import Plan
from crmconf.planning.document import plan_document


def render_json(
    plan: Plan, impact: Mapping[str, Any] | None = None, target: Mapping[str, Any] | None = None
) -> str:
    return json.dumps(plan_document(plan, impact, target), ensure_ascii=False, indent=2) + "\n"
