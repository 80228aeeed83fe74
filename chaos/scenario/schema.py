"""The JSON Schema of scenario files (``fraiseql-chaos schema`` prints it).

Example::

    json.dumps(scenario_json_schema(), indent=2)
"""

from __future__ import annotations

from typing import Any

from chaos.scenario.loading import scenario_model

SCHEMA_ID = "https://fraiseql.dev/schemas/chaos-scenario.json"


def scenario_json_schema() -> dict[str, Any]:
    """The schema of a scenario file, with every registered fault type; loader-set fields left out."""
    schema = scenario_model().model_json_schema(mode="validation")
    for field in ("profile", "path"):
        schema["properties"].pop(field, None)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            "title": "FraiseQL chaos scenario", **{k: v for k, v in schema.items() if k != "title"}}
