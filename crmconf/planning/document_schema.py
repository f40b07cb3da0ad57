"""The JSON Schema of a plan's document (crmconf.planning.document), generated here:
`crmconf schema --plan` prints it, `make schema` writes schemas/plan.schema.json, and a
test fails when that file is out of date. The kinds it names come from the registry.
"""

from __future__ import annotations

import json
from typing import Any

from crmconf.kinds import ALL_KINDS


def plan_json_schema() -> dict[str, Any]:
    """JSON Schema 2020-12 of `crmconf plan --format json` (and of a saved plan's body)."""
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://crmconf.dev/schemas/plan.schema.json",
        "title": "crmconf plan (format_version 1)",
        "description": "The output of `crmconf plan --format json` (and `crmconf drift --format "
        "json`; a plan saved with `crmconf plan -o FILE.json` holds the same document "
        "plus `saved`). Compatibility follows Terraform's rule for its JSON plan: "
        "format_version changes only when a field is removed or changes meaning; "
        "otherwise later versions of crmconf only add fields, to the document, to "
        "changes and to nested objects. Consumers must therefore ignore fields they do "
        "not know, and this schema allows them everywhere.",
        "type": "object",
        "required": ["format_version", "changes", "summary", "warnings"],
        "additionalProperties": True,
        "properties": {
            "format_version": {
                "description": "The format's version; a consumer refuses a "
                "version it does not know and accepts "
                "unknown fields within a known one.",
                "const": 1,
            },
            "changes": {
                "description": "Every change, in the order an apply makes them: "
                "creates and updates in dependency order, then "
                "deletes in reverse.",
                "type": "array",
                "items": {"$ref": "#/$defs/change"},
            },
            "summary": {
                "description": "How many changes of each action the plan holds.",
                "type": "object",
                "required": ["create", "update", "delete"],
                "additionalProperties": True,
                "properties": {
                    "create": {"$ref": "#/$defs/count"},
                    "update": {"$ref": "#/$defs/count"},
                    "delete": {"$ref": "#/$defs/count"},
                },
            },
            "warnings": {
                "description": "Lint warnings about the configuration, each as "
                "`file:line:col: message` with an optional hint "
                "line.",
                "type": "array",
                "items": {"type": "string"},
            },
            "manual_steps": {
                "description": "What a person must do by hand in the CRM for "
                "changes the target cannot make, in the order "
                "to do them.",
                "type": "array",
                "items": {"type": "string"},
            },
            "attested": {
                "description": "Checks a person confirmed by hand (crmconf confirm) whose "
                "confirmation holds: attested, not observed; kept apart from the warnings, "
                "which hold the checks still to do.",
                "type": "array",
                "items": {"type": "object"},
            },
            "left_out": {
                "description": "Per kind, the items `--only` / `--exclude` left out: not "
                "compared, left as they are in the configuration and the target.",
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
            "saved": {
                "description": "Only in a plan saved with `crmconf plan -o FILE.json`: what "
                "`crmconf apply FILE.json` needs to plan again and compare (the "
                "configuration's place and digests, the target's fingerprint, the policy, a "
                "checksum). Its contents are crmconf's own, not an interface.",
                "type": "object",
            },
        },
        "$defs": {
            "count": {"type": "integer", "minimum": 0},
            "item": {
                "description": "An item's name and compared fields (e.g. probability, "
                "status, parent, position, enabled).",
                "type": "object",
                "required": ["name"],
                "additionalProperties": True,
                "properties": {
                    "name": {"type": "string"},
                    "position": {
                        "description": "1-based place in an ordered "
                        "kind's list; present when the "
                        "item is created or moved.",
                        "type": "integer",
                        "minimum": 1,
                    },
                    "parent": {
                        "description": "For a group: the name of its "
                        "parent group, or null at the "
                        "top.",
                        "type": ["string", "null"],
                    },
                },
            },
            "change": {
                "type": "object",
                "required": ["kind", "key", "action", "before", "after", "changed"],
                "additionalProperties": True,
                "properties": {
                    "kind": {
                        "description": "The kind's section in the configuration.",
                        "type": "string",
                        "examples": [kind.name for kind in ALL_KINDS],
                    },
                    "key": {
                        "description": "The item's name after the change "
                        "(before it, for a delete).",
                        "type": "string",
                    },
                    "action": {"enum": ["create", "update", "delete"]},
                    "before": {
                        "description": "The item as the target holds it; null for a create.",
                        "anyOf": [{"$ref": "#/$defs/item"}, {"type": "null"}],
                    },
                    "after": {
                        "description": "The item as the configuration wants it; null for a delete.",
                        "anyOf": [{"$ref": "#/$defs/item"}, {"type": "null"}],
                    },
                    "changed": {
                        "description": "For an update, the fields "
                        "that differ: `name` for a "
                        "rename, `parent` or "
                        "`position` for a move.",
                        "type": "array",
                        "items": {"type": "string"},
                        "uniqueItems": True,
                    },
                    "usage": {
                        "description": "How much of the CRM's data uses the existing item.",
                        "type": "object",
                        "required": ["customers", "contacts", "opportunities"],
                        "additionalProperties": True,
                        "properties": {
                            "customers": {"$ref": "#/$defs/count"},
                            "contacts": {"$ref": "#/$defs/count"},
                            "opportunities": {"$ref": "#/$defs/count"},
                        },
                    },
                    "migration": {
                        "description": "For a delete declared under "
                        "`removed:`: where the data "
                        "using the item goes.",
                        "oneOf": [
                            {
                                "type": "object",
                                "required": ["move_to"],
                                "additionalProperties": True,
                                "properties": {"move_to": {"type": "string"}},
                            },
                            {
                                "type": "object",
                                "required": ["clear"],
                                "additionalProperties": True,
                                "properties": {"clear": {"const": True}},
                            },
                        ],
                    },
                    "manual_step": {
                        "description": "Set when the target "
                        "cannot make this change: "
                        "what a person does in the "
                        "CRM.",
                        "type": "string",
                    },
                },
                "allOf": [
                    {
                        "if": {"properties": {"action": {"const": "create"}}},
                        "then": {
                            "properties": {
                                "before": {"type": "null"},
                                "after": {"type": "object"},
                                "changed": {"maxItems": 0},
                            }
                        },
                    },
                    {
                        "if": {"properties": {"action": {"const": "update"}}},
                        "then": {
                            "properties": {
                                "before": {"type": "object"},
                                "after": {"type": "object"},
                                "changed": {"minItems": 1},
                            }
                        },
                    },
                    {
                        "if": {"properties": {"action": {"const": "delete"}}},
                        "then": {
                            "properties": {
                                "before": {"type": "object"},
                                "after": {"type": "null"},
                                "changed": {"maxItems": 0},
                            }
                        },
                    },
                ],
            },
        },
    }
    return schema


def plan_schema_text() -> str:
    return json.dumps(plan_json_schema(), ensure_ascii=False, indent=2) + "\n"
