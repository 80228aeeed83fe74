"""WHERE clauses from a where-input value: ``{"title": {"startsWith": "Hel"}, "or": [...]}``.

The input is what graphql-core coerced for a ``<T>WhereInput`` argument (or the same
shape written by hand for the repository): field keys in snake_case or camelCase,
operator keys in either case (``startsWith`` / ``starts_with``), ``and``/``or`` lists and
``not``. Every client value becomes a parameter; field keys become literals only after
they matched the document shape.

Semantics: a field filter with several operators means all of them; ``null`` in
place of a field filter means no condition; a comparison never matches a missing or
null value (use ``isNull``); ``or: []`` matches nothing and ``and: []`` everything.

Example::

    params = Params()
    clause = build_where({"tags": {"contains": "sql"}}, post_shape, params)
    # data->'tags' @> %(p0)s          params.values == {"p0": Jsonb(["sql"])}
"""

from __future__ import annotations

import datetime
import decimal
import enum
import uuid
from collections.abc import Mapping
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from fraiseql.sql.expressions import (
    FALSE, ID_COLUMN, TRUE, Params, join, json_at, text_at, typed_at,
)
from fraiseql.sql.shape import SCALAR_CASTS, DocumentShape, FieldShape, invalid_input

COMPARISONS = {"eq": "=", "neq": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_EQUALITY = ("eq", "neq", "in", "nin", "is_null")
_ORDERED = ("eq", "neq", "in", "nin", "gt", "gte", "lt", "lte", "is_null")

OPERATORS_BY_KIND: dict[str, tuple[str, ...]] = {
    "id": _EQUALITY,
    "string": (*_ORDERED, "contains", "starts_with", "like", "ilike"),
    "enum": _EQUALITY,
    "int": _ORDERED,
    "float": _ORDERED,
    "decimal": _ORDERED,
    "datetime": _ORDERED,
    "date": _ORDERED,
    "boolean": ("eq", "neq", "is_null"),
    "json": ("eq", "is_null"),
    "list": ("contains", "is_null"),
}
"""Operators offered per kind (snake_case; the GraphQL names are in ``GRAPHQL_OPERATORS``)."""

GRAPHQL_OPERATORS = {"starts_with": "startsWith", "is_null": "isNull"}
_FROM_GRAPHQL = {graphql: python for python, graphql in GRAPHQL_OPERATORS.items()}
_ALL_OPERATORS = {op for ops in OPERATORS_BY_KIND.values() for op in ops}
_LOGICAL = ("and", "or", "not")


def build_where(
    where: Mapping[str, Any] | None, shape: DocumentShape, params: Params
) -> sql.Composable:
    """The condition for ``where`` over ``data`` (and the view's ``id`` column); TRUE if empty."""
    if where is None:
        return TRUE
    return _conditions(where, shape, (), params)


def _conditions(
    where: Any, shape: DocumentShape, path: tuple[str, ...], params: Params
) -> sql.Composable:
    if not isinstance(where, Mapping):
        raise invalid_input(f"a filter must be an object, got {where!r}")
    parts = []
    for key, value in where.items():
        if value is None:
            continue
        if key in ("and", "or"):
            if not isinstance(value, (list, tuple)):
                raise invalid_input(f"{key!r} takes a list of filters")
            branches = [_conditions(item, shape, path, params) for item in value]
            parts.append(join(branches, key.upper(), TRUE if key == "and" else FALSE))
        elif key == "not":
            parts.append(sql.SQL("NOT ({})").format(_conditions(value, shape, path, params)))
        else:
            source_key, field = shape.lookup(key)
            if _is_nested(field, value):
                nested = field.nested if field.nested is not None else shape
                parts.append(_conditions(value, nested, (*path, source_key), params))
            else:
                parts.append(_field_conditions((*path, source_key), field, value, params))
    return join(parts, "AND", TRUE)


def _is_nested(field: FieldShape, value: Any) -> bool:
    if field.kind == "object" and not field.is_list:
        return True
    # Untyped documents: an object whose keys are not operators is a nested filter.
    return field.kind == "infer" and isinstance(value, Mapping) and not all(
        _FROM_GRAPHQL.get(k, k) in _ALL_OPERATORS for k in value
    )


def _field_conditions(
    path: tuple[str, ...], field: FieldShape, filters: Any, params: Params
) -> sql.Composable:
    name = ".".join(path)
    if not isinstance(filters, Mapping):
        raise invalid_input(f"the filter on {name!r} must be an object of operators, got {filters!r}")
    parts = []
    for raw_operator, operand in filters.items():
        operator = _FROM_GRAPHQL.get(raw_operator, raw_operator)
        kind = _kind_for(field, operand)
        allowed = OPERATORS_BY_KIND.get(kind, ())
        if operator not in allowed:
            shown = ", ".join(GRAPHQL_OPERATORS.get(op, op) for op in allowed)
            raise invalid_input(
                f"unknown operator {raw_operator!r} for {name!r} ({kind}); allowed: {shown}"
            )
        if operand is None:
            if operator == "is_null":
                continue
            raise invalid_input(f"{name}.{raw_operator} does not accept null; use isNull")
        parts.append(_operator(path, kind, field.is_list, operator, operand, params, name))
    return join(parts, "AND", TRUE)


def _kind_for(field: FieldShape, operand: Any) -> str:
    if field.is_list:
        return "list"
    if field.kind == "infer":
        sample = operand[0] if isinstance(operand, (list, tuple)) and operand else operand
        return _inferred_kind(sample)
    return field.kind


def _inferred_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float, decimal.Decimal)):
        return "decimal"
    if isinstance(value, datetime.datetime):
        return "datetime"
    if isinstance(value, datetime.date):
        return "date"
    return "string"


def _operator(
    path: tuple[str, ...], kind: str, is_list: bool, operator: str, operand: Any,
    params: Params, name: str,
) -> sql.Composable:
    if operator == "is_null":
        if not isinstance(operand, bool):
            raise invalid_input(f"{name}.isNull takes true or false, got {operand!r}")
        column = ID_COLUMN if _uses_id_column(path, kind) else text_at(path)
        return sql.SQL("{} IS NULL" if operand else "{} IS NOT NULL").format(column)
    if kind == "list":
        # Array containment: uses a GIN index on data when there is one.
        return sql.SQL("{} @> {}").format(json_at(path), params.add(Jsonb([_json_value(operand)])))
    if kind == "json":
        return sql.SQL("{} = {}").format(json_at(path), params.add(Jsonb(operand)))

    cast = SCALAR_CASTS[kind]
    expression = ID_COLUMN if _uses_id_column(path, kind) else typed_at(path, cast)
    if operator in COMPARISONS:
        value = params.add(_scalar(kind, operand, name), cast)
        return sql.SQL("{} {} {}").format(expression, sql.SQL(COMPARISONS[operator]), value)
    if operator in ("in", "nin"):
        if not isinstance(operand, (list, tuple)):
            raise invalid_input(f"{name}.{operator} takes a list, got {operand!r}")
        if not operand:
            return FALSE if operator == "in" else TRUE
        values = params.add([_scalar(kind, item, name) for item in operand],
                            f"{cast}[]" if cast else None)
        template = "{} = ANY({})" if operator == "in" else "NOT ({} = ANY({}))"
        return sql.SQL(template).format(expression, values)
    text = _scalar(kind, operand, name)
    if operator == "contains":
        pattern = "%" + escape_like(text) + "%"
    elif operator == "starts_with":
        pattern = escape_like(text) + "%"
    else:  # like / ilike: the client's own pattern, still a parameter
        pattern = text
    keyword = sql.SQL("ILIKE" if operator == "ilike" else "LIKE")
    return sql.SQL("{} {} {}").format(expression, keyword, params.add(pattern))


def _uses_id_column(path: tuple[str, ...], kind: str) -> bool:
    # The view's own id column, so the table's primary key index serves the lookup.
    return path == ("id",) and kind in ("id", "string")


def escape_like(text: str) -> str:
    r"""Make ``%``, ``_`` and ``\`` match themselves in a LIKE pattern."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _scalar(kind: str, value: Any, name: str) -> Any:
    """The operand as the Python value psycopg should send for ``kind``."""
    if isinstance(value, enum.Enum):
        value = value.name
    try:
        if kind in ("int", "float", "decimal"):
            if isinstance(value, bool) or not isinstance(value, (int, float, decimal.Decimal, str)):
                raise TypeError
            return decimal.Decimal(str(value))  # one type, so lists never mix int and float
        if kind == "boolean":
            if not isinstance(value, bool):
                raise TypeError
            return value
        if kind == "datetime":
            return value if isinstance(value, datetime.datetime) else datetime.datetime.fromisoformat(value)
        if kind == "date":
            if isinstance(value, datetime.datetime):
                raise TypeError
            return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)
        if isinstance(value, uuid.UUID):
            return str(value)
        if not isinstance(value, str):
            raise TypeError
        return value
    except (TypeError, ValueError, decimal.InvalidOperation):
        raise invalid_input(f"{name} expects a {kind} value, got {value!r}") from None


def _json_value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value
