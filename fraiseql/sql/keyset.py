"""Keyset (cursor) pagination: a page after a cursor, without OFFSET.

The page is ordered by the requested keys plus the view's ``id`` as a tie-breaker, so
every row has exactly one position. A cursor is opaque base64 of the row's sort-key
values (as ``->>`` text) and its id; the next page starts strictly after it, with
NULLs placed as the ORDER BY places them. Rows come back as one JSON array per row,
``[document, key1, ..., id]``, so the cursor values are exactly what SQL compared.

Example::

    query, params, keys = build_page("v_post", post_shape, first=10, after=None)
    # SELECT json_build_array(data, id::text)::text FROM "v_post"
    #   ORDER BY id ASC NULLS LAST LIMIT %(p0)s          (p0 = 11: one extra row)
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from typing import Any

from psycopg import sql

from fraiseql.sql.expressions import FALSE, ID_COLUMN, TRUE, Params, join, relation, text_at
from fraiseql.sql.order_by import SortKey, build_order_by, sort_keys
from fraiseql.sql.select import DEFAULT_MAX_LIMIT, check_limit, where_clause
from fraiseql.sql.shape import DocumentShape, invalid_input
from fraiseql.sql.where import build_where

DEFAULT_PAGE_SIZE = 20
_CURSOR_VERSION = 1


def encode_cursor(keys: Sequence[SortKey], values: Sequence[str | None]) -> str:
    payload = {"v": _CURSOR_VERSION, "k": [k.source_key for k in keys], "s": list(values)}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, keys: Sequence[SortKey]) -> list[str | None]:
    """The sort-key values in ``cursor``; a clear error when it is malformed or stale."""
    try:
        if not isinstance(cursor, str):
            raise ValueError
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
        values = payload["s"]
        names = payload["k"]
        if payload["v"] != _CURSOR_VERSION or not isinstance(values, list):
            raise ValueError
        if not all(value is None or isinstance(value, str) for value in values):
            raise ValueError
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise invalid_input(f"malformed cursor {_shown(cursor)}: pass a cursor from this query") from None
    if names != [k.source_key for k in keys] or len(values) != len(keys):
        raise invalid_input(
            "the cursor was made for a different orderBy; start again without `after`"
        )
    return values


def _shown(cursor: Any) -> str:
    text = repr(cursor)
    return text if len(text) <= 40 else text[:40] + "...'"


def page_keys(order_by: Sequence[Any] | None, shape: DocumentShape) -> list[SortKey]:
    """The requested keys plus ``id ASC`` as the tie-breaker (unless already a key)."""
    keys = sort_keys(order_by, shape)
    if not any(key.source_key == "id" for key in keys):
        keys.append(SortKey("id", ID_COLUMN, descending=False, nulls_first=False))
    return keys


def build_page(
    source: str,
    shape: DocumentShape,
    *,
    first: int | None = None,
    after: str | None = None,
    where: Mapping[str, Any] | None = None,
    order_by: Sequence[Any] | None = None,
    max_first: int = DEFAULT_MAX_LIMIT,
) -> tuple[sql.Composed, dict[str, Any], list[SortKey], int]:
    """The statement for one page: (query, params, keys, page size). Fetches size + 1 rows."""
    size = DEFAULT_PAGE_SIZE if first is None else check_limit(first, max_first, "first")
    keys = page_keys(order_by, shape)
    params = Params()
    conditions = [build_where(where, shape, params)]
    if after is not None:
        conditions.append(_after(keys, decode_cursor(after, keys), params))
    columns = sql.SQL(", ").join([sql.SQL("data"), *(_cursor_column(key) for key in keys)])
    query = sql.SQL("SELECT json_build_array({})::text FROM {}{}{} LIMIT {}").format(
        columns, relation(source), where_clause(join(conditions, "AND", TRUE)),
        build_order_by(keys), params.add(size + 1),
    )
    return sql.Composed([query]), params.values, keys, size


def _cursor_column(key: SortKey) -> sql.Composable:
    if key.is_id_column:
        return sql.SQL("{}::text").format(ID_COLUMN)
    return text_at((key.source_key,))


def _after(keys: Sequence[SortKey], values: Sequence[str | None], params: Params) -> sql.Composable:
    """Rows strictly after the cursor in (keys..., id) order, NULLs placed as sorted."""
    branches = []
    for index, key in enumerate(keys):
        equal_before = [
            sql.SQL("{} IS NOT DISTINCT FROM {}").format(k.expression, params.add(v, k.cast))
            for k, v in zip(keys[:index], values[:index])
        ]
        branches.append(join([*equal_before, _beyond(key, values[index], params)], "AND", FALSE))
    return join(branches, "OR", FALSE)


def _beyond(key: SortKey, value: str | None, params: Params) -> sql.Composable:
    if value is None:
        # Past a NULL: the non-null values when NULLs sort first, nothing when last.
        return sql.SQL("{} IS NOT NULL").format(key.expression) if key.nulls_first else FALSE
    comparison = sql.SQL("{} {} {}").format(
        key.expression, sql.SQL("<" if key.descending else ">"), params.add(value, key.cast)
    )
    if key.nulls_first or key.is_id_column:  # the id column is never NULL
        return comparison
    return sql.SQL("({} OR {} IS NULL)").format(comparison, key.expression)


def page_from_rows(
    rows: Sequence[str], keys: Sequence[SortKey], size: int, after: str | None
) -> dict[str, Any]:
    """``{"edges": [{"cursor", "node"}], "pageInfo": {...}}`` from the fetched rows."""
    decoded = [json.loads(row) for row in rows]
    edges = [
        {"cursor": encode_cursor(keys, item[1:]), "node": item[0]} for item in decoded[:size]
    ]
    return {
        "edges": edges,
        "pageInfo": {
            "hasNextPage": len(decoded) > size,
            # Without `before`, there is a previous page exactly when we started after one.
            "hasPreviousPage": after is not None,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }
