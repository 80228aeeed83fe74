"""SELECT statements over a view: documents, one document by id, a count.

Every statement reads ``data::text`` (the fast path hands the text to Rust untouched),
or the source's ``text_column`` when it stores that text already, and takes its values
as named parameters.

Example::

    query, params = build_select("v_post", post_shape, where={"title": {"eq": "Hi"}},
                                 order_by=[{"field": "title"}], limit=10)
    # SELECT data::text FROM "v_post" WHERE data->>'title' = %(p0)s
    #   ORDER BY data->>'title' ASC NULLS LAST LIMIT %(p1)s
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from psycopg import sql

from fraiseql.sql.expressions import ID_COLUMN, TRUE, Params, relation
from fraiseql.sql.order_by import build_order_by, sort_keys
from fraiseql.sql.shape import DocumentShape, invalid_input
from fraiseql.sql.where import build_where

DEFAULT_MAX_LIMIT = 1000
"""The largest ``limit`` (and ``first``) a client may ask for; also the implicit limit."""

Statement = tuple[sql.Composed, dict[str, Any]]


def check_limit(value: int | None, max_limit: int, name: str = "limit") -> int:
    """``value`` when 0 <= value <= max_limit; ``max_limit`` when None; else a clear error."""
    if value is None:
        return max_limit
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_input(f"{name} must be an integer, got {value!r}")
    if value < 0:
        raise invalid_input(f"{name} must not be negative, got {value}")
    if value > max_limit:
        raise invalid_input(f"{name} must be at most {max_limit}, got {value}")
    return value


def where_clause(condition: sql.Composable) -> sql.Composable:
    return sql.SQL("") if condition is TRUE else sql.SQL(" WHERE {}").format(condition)


_DATA_TEXT = sql.SQL("data::text")


def document_text(text_column: str | None) -> sql.Composable:
    """What a statement selects: ``data::text``, or a column that stores it (no conversion)."""
    return _DATA_TEXT if text_column is None else sql.Identifier(text_column)


def build_select(
    source: str,
    shape: DocumentShape,
    *,
    where: Mapping[str, Any] | None = None,
    order_by: Sequence[Any] | None = None,
    limit: int | None = None,
    offset: int | None = None,
    max_limit: int = DEFAULT_MAX_LIMIT,
    text_column: str | None = None,
) -> Statement:
    """``SELECT data::text FROM <view> [WHERE] [ORDER BY] LIMIT [OFFSET]``."""
    params = Params()
    condition = build_where(where, shape, params)
    order = build_order_by(sort_keys(order_by, shape))
    query = sql.SQL("SELECT {} FROM {}{}{} LIMIT {}").format(
        document_text(text_column), relation(source), where_clause(condition), order,
        params.add(check_limit(limit, max_limit)),
    )
    if offset:
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise invalid_input(f"offset must be a non-negative integer, got {offset!r}")
        query = sql.SQL("{} OFFSET {}").format(query, params.add(offset))
    return sql.Composed([query]), params.values


def build_select_by_id(source: str, id_value: Any, *, text_column: str | None = None) -> Statement:
    """``SELECT data::text FROM <view> WHERE id = %(p0)s`` (the primary key's index)."""
    params = Params()
    query = sql.SQL("SELECT {} FROM {} WHERE {} = {}").format(
        document_text(text_column), relation(source), ID_COLUMN, params.add(str(id_value))
    )
    return sql.Composed([query]), params.values


def build_count(
    source: str, shape: DocumentShape, *, where: Mapping[str, Any] | None = None
) -> Statement:
    """``SELECT count(*) FROM <view> [WHERE]``."""
    params = Params()
    condition = build_where(where, shape, params)
    query = sql.SQL("SELECT count(*) FROM {}{}").format(relation(source), where_clause(condition))
    return sql.Composed([query]), params.values
