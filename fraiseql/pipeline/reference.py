"""Pure-Python implementation of the response pipeline contract: the oracle.

It does exactly what ``fraiseql._fraiseql_rs.compile_plan`` / ``build_response`` do
(see docs/architecture.md, "Pipeline"), written for clarity instead of speed, and is
used to prove the Rust implementation right (tests/unit/test_pipeline_equivalence.py)
and as the baseline of benchmarks/pipeline/.

Rules both implementations follow beyond the architecture contract:

- a row is one JSON value (RFC 8259: no NaN/Infinity, nesting at most
  ``MAX_DEPTH`` containers) given as ``str`` or as UTF-8 ``bytes`` (which spares
  CPython's str -> UTF-8 encoding); a row that is ``None`` (SQL NULL) reads as
  ``null``; a str with a lone surrogate or bytes that are not UTF-8 are not JSON;
- with a sub-spec, objects are projected, arrays element-wise, anything else is
  copied as it is; numbers keep their exact text;
- when a key occurs twice in an object, the last occurrence wins;
- errors given by the caller come first in ``errors``, then one error per root
  whose rows were not valid JSON.

Example::

    >>> plan = compile_plan((("field", "createdAt", "created_at", None),))
    >>> build_response([("rows", "posts", plan, ['{"created_at": 1e3}'], False, False)])
    b'{"data":{"posts":[{"createdAt":1e3}]}}'
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

MAX_DEPTH = 512


class PipelineInputError(ValueError):
    """A malformed spec or roots argument; ``code`` says which (as in the Rust module)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class RawNumber:
    """A JSON number kept as its exact text, so big integers and exponents survive."""

    text: str


@dataclass(frozen=True, slots=True)
class Entry:
    out_key: str
    source_key: str | None  # None for __typename
    type_name: str | None
    sub: ReferencePlan | None


@dataclass(frozen=True, slots=True)
class ReferencePlan:
    entries: tuple[Entry, ...]


class _InvalidJson(Exception):
    """A document that is not acceptable JSON (internal signal)."""


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _plan_str(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _is_utf8(value):
        raise PipelineInputError(f"invalid plan spec: {what} must be a UTF-8 str", "INVALID_PLAN")
    return value


def compile_plan(spec: Sequence[Any], _depth: int = 1) -> ReferencePlan:
    """Checks a plan spec and turns it into a ``ReferencePlan``."""
    if _depth > MAX_DEPTH:
        raise PipelineInputError("invalid plan spec: nests too deep", "INVALID_PLAN")
    if not isinstance(spec, (list, tuple)):
        raise PipelineInputError("invalid plan spec: not a list or tuple", "INVALID_PLAN")
    entries: list[Entry] = []
    for item in spec:
        if not isinstance(item, (list, tuple)) or not item:
            raise PipelineInputError("invalid plan spec: entry is not a tuple", "INVALID_PLAN")
        tag = _plan_str(item[0], "entry tag")
        if tag == "field" and len(item) == 4:
            out_key = _plan_str(item[1], "out_key")
            source_key = _plan_str(item[2], "source_key")
            sub = None if item[3] is None else compile_plan(item[3], _depth + 1)
            entries.append(Entry(out_key, source_key, None, sub))
        elif tag == "typename" and len(item) == 3:
            entries.append(Entry(_plan_str(item[1], "out_key"), None, _plan_str(item[2], "type_name"), None))
        else:
            raise PipelineInputError(f"invalid plan spec: bad entry {item!r}", "INVALID_PLAN")
        if any(earlier.out_key == entries[-1].out_key for earlier in entries[:-1]):
            raise PipelineInputError("invalid plan spec: duplicate output key", "INVALID_PLAN")
    return ReferencePlan(tuple(entries))


def _reject_constant(name: str) -> Any:
    raise _InvalidJson(name)


def _depth(value: Any) -> int:
    """Container nesting of a parsed value (a scalar is 0), without recursion."""
    deepest = 0
    pending = [(value, 1)]
    while pending:
        current, level = pending.pop()
        children = current.values() if isinstance(current, dict) else current if isinstance(current, list) else None
        if children is not None:
            deepest = max(deepest, level)
            pending.extend((child, level + 1) for child in children)
    return deepest


def parse_document(text: str | bytes) -> Any:
    """Parses one JSON document, keeping numbers as ``RawNumber``; raises ``_InvalidJson``."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise _InvalidJson("not UTF-8") from error
    if not _is_utf8(text):
        raise _InvalidJson("not UTF-8")
    try:
        value = json.loads(text, parse_int=RawNumber, parse_float=RawNumber, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        raise _InvalidJson(str(error)) from error
    if _depth(value) > MAX_DEPTH:
        raise _InvalidJson("nested too deep")
    return value


def project(value: Any, plan: ReferencePlan) -> Any:
    """Applies a plan to a parsed value: objects by entries, arrays element-wise."""
    # Plain loops, not comprehensions: each comprehension is one more Python frame,
    # and documents may nest MAX_DEPTH levels.
    if isinstance(value, list):
        elements = []
        for element in value:
            elements.append(project(element, plan))
        return elements
    if not isinstance(value, dict):
        return value
    result = {}
    for entry in plan.entries:
        if entry.type_name is not None:
            result[entry.out_key] = entry.type_name
            continue
        selected = value.get(entry.source_key)
        result[entry.out_key] = selected if entry.sub is None else project(selected, entry.sub)
    return result


def dump(value: Any) -> str:
    """Serialises a projected value; ``RawNumber`` text is written as it came."""
    if isinstance(value, RawNumber):
        return value.text
    if isinstance(value, dict):
        members = []
        for key, item in value.items():
            members.append(f"{json.dumps(key)}:{dump(item)}")
        return "{" + ",".join(members) + "}"
    if isinstance(value, list):
        elements = []
        for item in value:
            elements.append(dump(item))
        return "[" + ",".join(elements) + "]"
    return json.dumps(value)


def _invalid_row_error(out_key: str, row_index: int) -> str:
    message = f"The database returned invalid JSON for field '{out_key}' (row {row_index})."
    return json.dumps({"message": message, "path": [out_key], "extensions": {"code": "INVALID_DB_JSON"}})


def _root_value(plan: ReferencePlan, rows: Sequence[str | bytes | None], single: bool) -> str:
    """The JSON text of one rows root; raises ``_InvalidJson`` with the bad row's index."""
    chosen = list(rows[:1]) if single else list(rows)
    texts = []
    for index, row in enumerate(chosen):
        try:
            texts.append("null" if row is None else dump(project(parse_document(row), plan)))
        except _InvalidJson as error:
            raise _InvalidJson(index) from error
    if single:
        return texts[0] if texts else "null"
    return "[" + ",".join(texts) + "]"


def _check_roots(roots: Any) -> list[tuple[Any, ...]]:
    if not isinstance(roots, (list, tuple)):
        raise PipelineInputError("invalid roots: roots must be a list", "INVALID_ROOTS")
    checked = []
    for root in roots:
        if not isinstance(root, (list, tuple)):
            raise PipelineInputError("invalid roots: a root must be a tuple", "INVALID_ROOTS")
        tag = root[0] if root else None
        if tag == "rows" and len(root) == 6:
            _, out_key, plan, rows, single, nullable = root
            if not isinstance(plan, ReferencePlan) or not isinstance(rows, (list, tuple)):
                raise PipelineInputError("invalid roots: bad plan or rows", "INVALID_ROOTS")
            if not isinstance(out_key, str) or not _is_utf8(out_key):
                raise PipelineInputError("invalid roots: out_key must be a UTF-8 str", "INVALID_ROOTS")
            rows = rows[:1] if single else rows
            if any(row is not None and not isinstance(row, (str, bytes)) for row in rows):
                raise PipelineInputError("invalid roots: rows must be str, bytes or None", "INVALID_ROOTS")
            checked.append(("rows", out_key, plan, rows, bool(single), bool(nullable)))
        elif tag == "raw" and len(root) == 3:
            _, out_key, text = root
            if not isinstance(out_key, str) or not _is_utf8(out_key):
                raise PipelineInputError("invalid roots: out_key must be a UTF-8 str", "INVALID_ROOTS")
            if not isinstance(text, str) or not _is_utf8(text):
                raise PipelineInputError(f"raw root {out_key!r} is not valid JSON", "INVALID_RAW_JSON")
            checked.append(("raw", out_key, text))
        else:
            raise PipelineInputError(f"invalid roots: bad root {root!r}", "INVALID_ROOTS")
    return checked


def _check_errors(errors: Any) -> list[str]:
    if errors is None:
        return []
    if not isinstance(errors, (list, tuple)):
        raise PipelineInputError("invalid roots: errors must be a list of str", "INVALID_ROOTS")
    for index, error in enumerate(errors):
        if not isinstance(error, str) or not _is_utf8(error):
            raise PipelineInputError(f"error {index} is not a valid JSON object", "INVALID_ERROR_JSON")
    return list(errors)


def _check_json(roots: list[tuple[Any, ...]], errors: list[str]) -> None:
    """Duplicate root keys, raw values or error objects that are not JSON: caller bugs."""
    seen: set[str] = set()
    for root in roots:
        if root[1] in seen:
            raise PipelineInputError(f"invalid roots: duplicate root key {root[1]!r}", "INVALID_ROOTS")
        seen.add(root[1])
        if root[0] == "raw":
            try:
                parse_document(root[2])
            except _InvalidJson:
                raise PipelineInputError(f"raw root {root[1]!r} is not valid JSON", "INVALID_RAW_JSON") from None
    for index, error in enumerate(errors):
        try:
            is_object = isinstance(parse_document(error), dict)
        except _InvalidJson:
            is_object = False
        if not is_object:
            raise PipelineInputError(f"error {index} is not a valid JSON object", "INVALID_ERROR_JSON")


def build_response(roots: Sequence[Any], errors: Sequence[str] | None = None) -> bytes:
    """Builds the response body; same contract as the Rust ``build_response``."""
    checked_roots = _check_roots(roots)
    given_errors = _check_errors(errors)
    _check_json(checked_roots, given_errors)
    fields = []
    row_errors = []
    data_is_null = False
    for root in checked_roots:
        if root[0] == "raw":
            value = root[2]
        else:
            _, out_key, plan, rows, single, nullable = root
            try:
                value = _root_value(plan, rows, single)
            except _InvalidJson as error:
                value = "null"
                row_errors.append(_invalid_row_error(out_key, error.args[0]))
                data_is_null = data_is_null or not nullable
        fields.append(f"{json.dumps(root[1])}:{value}")
    data = "null" if data_is_null else "{" + ",".join(fields) + "}"
    all_errors = given_errors + row_errors
    body = f'{{"data":{data},"errors":[{",".join(all_errors)}]}}' if all_errors else f'{{"data":{data}}}'
    return body.encode("utf-8")
