"""The response builders compared by the benchmark, behind one signature.

``prepare(spec)`` runs once outside the timed region (plan compilation is cached in
the real executor too) and returns a function from rows to the response body for
one list root named ``posts``. ``rows_as`` says whether that function takes rows
as ``str`` (psycopg's default for text) or as UTF-8 ``bytes``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from fraiseql import pipeline
from fraiseql.pipeline import reference

Build = Callable[[list[Any]], bytes]


@dataclass(frozen=True)
class Implementation:
    name: str
    prepare: Callable[[tuple[Any, ...]], Build]
    rows_as: str = "str"


def _rust(spec: tuple[Any, ...]) -> Build:
    plan = pipeline.compile_plan(spec)
    return lambda rows: pipeline.build_response([("rows", "posts", plan, rows, False, False)])


def _reference(spec: tuple[Any, ...]) -> Build:
    plan = reference.compile_plan(spec)
    return lambda rows: reference.build_response([("rows", "posts", plan, rows, False, False)])


def _project(value: Any, spec: tuple[Any, ...]) -> Any:
    if isinstance(value, list):
        return [_project(item, spec) for item in value]
    if not isinstance(value, dict):
        return value
    result = {}
    for entry in spec:
        if entry[0] == "typename":
            result[entry[1]] = entry[2]
        else:
            selected = value.get(entry[2])
            result[entry[1]] = selected if entry[3] is None else _project(selected, entry[3])
    return result


def _orjson(spec: tuple[Any, ...]) -> Build:
    """The best plain-Python path: orjson parses each row, Python projects, orjson writes."""

    def build(rows: list[str]) -> bytes:
        return orjson.dumps({"data": {"posts": [_project(orjson.loads(row), spec) for row in rows]}})

    return build


IMPLEMENTATIONS = (
    Implementation("rust", _rust),
    Implementation("rust, bytes rows", _rust, rows_as="bytes"),
    Implementation("orjson+python", _orjson),
    Implementation("orjson+python, bytes rows", _orjson, rows_as="bytes"),
    Implementation("reference (json)", _reference),
)
