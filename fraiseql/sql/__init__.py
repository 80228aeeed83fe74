"""SQL over views with a JSONB ``data`` column, built with ``psycopg.sql`` only.

Client values are always parameters; document keys (checked against the schema) are
literals. See ``where``, ``order_by``, ``select`` and ``keyset``.
"""

from fraiseql.sql.expressions import Params
from fraiseql.sql.keyset import build_page, decode_cursor, encode_cursor, page_from_rows
from fraiseql.sql.order_by import SortKey, build_order_by, sort_keys
from fraiseql.sql.select import (
    DEFAULT_MAX_LIMIT,
    build_count,
    build_select,
    build_select_by_id,
    check_limit,
)
from fraiseql.sql.shape import UNTYPED, DocumentShape, FieldShape
from fraiseql.sql.where import OPERATORS_BY_KIND, build_where, escape_like

__all__ = [
    "DEFAULT_MAX_LIMIT",
    "OPERATORS_BY_KIND",
    "UNTYPED",
    "DocumentShape",
    "FieldShape",
    "Params",
    "SortKey",
    "build_count",
    "build_order_by",
    "build_page",
    "build_select",
    "build_select_by_id",
    "build_where",
    "check_limit",
    "decode_cursor",
    "encode_cursor",
    "escape_like",
    "page_from_rows",
    "sort_keys",
]
