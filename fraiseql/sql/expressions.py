"""SQL expressions over the view: the ``data`` JSONB column, paths in it, parameters.

Keys inside paths come from the schema (validated field names), never from the client,
and are rendered as literals so the statement text stays the same for every request
(expression indexes and prepared plans can match it). Client values always go through
``Params``: named placeholders, so fragments compose in any order.

Example::

    params = Params()
    condition = sql.SQL("{} = {}").format(text_at(("author", "name")), params.add("Ann"))
    # data->'author'->>'name' = %(p0)s      params.values == {"p0": "Ann"}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import sql

# The two columns every view has; constant SQL, so they render unquoted.
DATA = sql.SQL("data")
ID_COLUMN = sql.SQL("id")
TRUE = sql.SQL("TRUE")
FALSE = sql.SQL("FALSE")


class Params:
    """Values for one statement, named ``p0``, ``p1``, ... in the order they were added."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def add(self, value: Any, cast: str | None = None) -> sql.Composable:
        name = f"p{len(self.values)}"
        self.values[name] = value
        placeholder = sql.Placeholder(name)
        if cast is None:
            return placeholder
        return sql.SQL("{}::{}").format(placeholder, sql.SQL(cast))


def json_at(path: Sequence[str]) -> sql.Composable:
    """``data->'a'->'b'``: the JSONB value at ``path`` (``data`` itself for ``()``)."""
    expression: sql.Composable = DATA
    for key in path:
        expression = sql.SQL("{}->{}").format(expression, sql.Literal(key))
    return expression


def text_at(path: Sequence[str]) -> sql.Composable:
    """``data->'a'->>'b'``: the value at ``path`` as text (NULL for JSON null or missing)."""
    *parents, last = path
    return sql.SQL("{}->>{}").format(json_at(parents), sql.Literal(last))


def typed_at(path: Sequence[str], cast: str | None) -> sql.Composable:
    """``(data->>'n')::numeric``: the text value cast for comparison and ordering."""
    if cast is None:
        return text_at(path)
    return sql.SQL("({})::{}").format(text_at(path), sql.SQL(cast))


def join(parts: Sequence[sql.Composable], operator: str, empty: sql.Composable) -> sql.Composable:
    """``(a) AND (b)``; ``empty`` when there are no parts, the part itself when one.

    Parts that cannot change the result (TRUE in an AND, FALSE in an OR) are dropped.
    """
    neutral = TRUE if operator == "AND" else FALSE if operator == "OR" else None
    parts = [part for part in parts if part is not neutral]
    if not parts:
        return empty
    if len(parts) == 1:
        return parts[0]
    return sql.SQL(f" {operator} ").join(sql.SQL("({})").format(part) for part in parts)


def relation(name: str) -> sql.Identifier:
    """A view or table name, schema-qualified when it contains a dot (``app.v_post``)."""
    return sql.Identifier(*name.split("."))
