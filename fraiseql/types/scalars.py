"""The custom scalars: ID, DateTime, Date, Decimal, JSON.

Each is a graphql-core ``GraphQLScalarType`` plus the Python annotation that selects it
(``ID`` and ``JSON`` are marker classes so that ``ID | None`` is a valid annotation;
``DateTime``, ``Date`` and ``Decimal`` are the standard library classes).

Values read from a JSONB document arrive as JSON (an ISO string for a timestamp), so
``serialize`` accepts both the JSON form and the Python object. Bad client values raise
``GraphQLError`` with a message naming the scalar and the value's problem.

Example::

    DateTimeScalar.parse_value("2024-01-02T03:04:05Z")  # datetime(..., tzinfo=utc)
    DecimalScalar.serialize(decimal.Decimal("1.50"))     # "1.50"
"""

from __future__ import annotations

import datetime
import decimal
import json
import math
from typing import Any

from graphql import GraphQLError, GraphQLID, GraphQLScalarType, ValueNode, value_from_ast_untyped
from graphql.language import FloatValueNode, IntValueNode, StringValueNode


class ID(str):
    """Annotation for GraphQL ``ID``: UUIDs and strings, always serialised as strings."""


class JSON:
    """Annotation for any JSON value (objects, arrays, scalars), passed through as is."""


DateTime = datetime.datetime
Date = datetime.date
Decimal = decimal.Decimal

_MAX_SHOWN = 60


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "..."


# --- ID -------------------------------------------------------------------------------

# graphql-core reserves the name "ID"; its scalar already serialises strings, integers
# and objects with a meaningful str() (uuid.UUID), and parses strings and integers.
IDScalar = GraphQLID


# --- DateTime and Date ----------------------------------------------------------------

def _serialize_datetime(value: Any) -> str:
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, str):
        return value  # already ISO text from the JSONB document
    raise GraphQLError(f"DateTime cannot represent value {_shown(value)}")


def _parse_datetime(value: Any) -> datetime.datetime:
    if not isinstance(value, str):
        raise GraphQLError(f"DateTime must be an ISO 8601 string, got {_shown(value)}")
    try:
        return datetime.datetime.fromisoformat(value)
    except ValueError:
        raise GraphQLError(
            f"DateTime must be an ISO 8601 string such as 2024-01-02T03:04:05Z, got {_shown(value)}"
        ) from None


def _serialize_date(value: Any) -> str:
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, str):
        return value
    raise GraphQLError(f"Date cannot represent value {_shown(value)}")


def _parse_date(value: Any) -> datetime.date:
    if not isinstance(value, str):
        raise GraphQLError(f"Date must be a YYYY-MM-DD string, got {_shown(value)}")
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise GraphQLError(f"Date must be a YYYY-MM-DD string, got {_shown(value)}") from None


def _string_literal(parse: Any, scalar: str) -> Any:
    def parse_literal(node: ValueNode, _variables: Any = None) -> Any:
        if not isinstance(node, StringValueNode):
            raise GraphQLError(f"{scalar} must be given as a string literal, got {node.kind}")
        return parse(node.value)

    return parse_literal


DateTimeScalar = GraphQLScalarType(
    "DateTime",
    serialize=_serialize_datetime,
    parse_value=_parse_datetime,
    parse_literal=_string_literal(_parse_datetime, "DateTime"),
    description="An ISO 8601 timestamp, e.g. 2024-01-02T03:04:05.123456+00:00.",
)

DateScalar = GraphQLScalarType(
    "Date",
    serialize=_serialize_date,
    parse_value=_parse_date,
    parse_literal=_string_literal(_parse_date, "Date"),
    description="An ISO 8601 calendar date, e.g. 2024-01-02.",
)


# --- Decimal --------------------------------------------------------------------------

def _serialize_decimal(value: Any) -> str:
    # A string keeps every digit; a JSON float would round.
    if isinstance(value, bool):
        raise GraphQLError(f"Decimal cannot represent value {_shown(value)}")
    if isinstance(value, (decimal.Decimal, int, str)):
        return str(_parse_decimal(value))
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    raise GraphQLError(f"Decimal cannot represent value {_shown(value)}")


def _parse_decimal(value: Any) -> decimal.Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, float, decimal.Decimal)):
        raise GraphQLError(f"Decimal must be a string or a number, got {_shown(value)}")
    try:
        result = decimal.Decimal(str(value))
    except decimal.InvalidOperation:
        raise GraphQLError(f"Decimal must be a decimal number, got {_shown(value)}") from None
    if not result.is_finite():
        raise GraphQLError(f"Decimal must be finite, got {_shown(value)}")
    return result


def _parse_decimal_literal(node: ValueNode, _variables: Any = None) -> decimal.Decimal:
    if isinstance(node, (StringValueNode, IntValueNode, FloatValueNode)):
        return _parse_decimal(node.value)
    raise GraphQLError(f"Decimal must be a string or number literal, got {node.kind}")


DecimalScalar = GraphQLScalarType(
    "Decimal",
    serialize=_serialize_decimal,
    parse_value=_parse_decimal,
    parse_literal=_parse_decimal_literal,
    description="An exact decimal number, serialised as a string (e.g. \"12.50\").",
)


# --- JSON -----------------------------------------------------------------------------

def _serialize_json(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        raise GraphQLError(f"JSON cannot represent value {_shown(value)}") from None
    return value


def _parse_json_literal(node: ValueNode, variables: Any = None) -> Any:
    return value_from_ast_untyped(node, variables)


JSONScalar = GraphQLScalarType(
    "JSON",
    serialize=_serialize_json,
    parse_value=_serialize_json,
    parse_literal=_parse_json_literal,
    description="Any JSON value.",
)

__all__ = [
    "ID",
    "JSON",
    "Date",
    "DateScalar",
    "DateTime",
    "DateTimeScalar",
    "Decimal",
    "DecimalScalar",
    "IDScalar",
    "JSONScalar",
]
