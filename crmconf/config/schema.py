"""The JSON Schema of the configuration format, generated from the pydantic models."""

from __future__ import annotations

import json
from typing import Any

from crmconf.config.document import document_model

SCHEMA_ID = "https://crmconf.dev/schemas/crmconf.schema.json"


def json_schema() -> dict[str, Any]:
    """JSON Schema 2020-12 accepting exactly what `crmconf validate` accepts per file."""
    schema = document_model().model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
    }


def schema_text() -> str:
    return json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n"
