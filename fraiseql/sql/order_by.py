"""ORDER BY from an orderBy value: ``[{"field": "published_at", "direction": "DESC",
"nulls": "LAST"}, ...]``.

Each key sorts on the typed expression of a top-level scalar field (``id`` on the view's
column), so numbers sort as numbers and timestamps as timestamps. ``direction``
defaults to ASC; ``nulls`` to PostgreSQL's default (last for ASC, first for DESC).
Keys may also be given as ``"title"`` or ``("title", "desc")`` by repository callers.

Example::

    build_order_by([{"field": "published_at", "direction": "DESC"}], post_shape)
    # ORDER BY (data->>'published_at')::timestamptz DESC
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import sql

from fraiseql.sql.expressions import ID_COLUMN, typed_at
from fraiseql.sql.shape import SCALAR_CASTS, DocumentShape, invalid_input


@dataclass(frozen=True)
class SortKey:
    """One resolved ORDER BY key: document key, SQL expression, direction, nulls placement."""

    source_key: str
    expression: sql.Composable
    descending: bool
    nulls_first: bool
    cast: str | None = None  # the expression's cast, for comparing cursor values

    @property
    def is_id_column(self) -> bool:
        return self.expression is ID_COLUMN

    def render(self) -> sql.Composable:
        return sql.SQL("{} {} {}").format(
            self.expression,
            sql.SQL("DESC" if self.descending else "ASC"),
            sql.SQL("NULLS FIRST" if self.nulls_first else "NULLS LAST"),
        )


def sort_keys(order_by: Sequence[Any] | None, shape: DocumentShape) -> list[SortKey]:
    """Resolve and validate ``order_by`` against the document shape."""
    keys = []
    for item in order_by or ():
        field, direction, nulls = _parts(item)
        source_key, field_shape = shape.lookup(field)
        kind = "infer" if shape.is_untyped else field_shape.kind
        if field_shape.is_list or kind not in (*SCALAR_CASTS, "infer"):
            raise invalid_input(f"cannot order by {field!r}: only scalar fields can be sorted")
        direction = str(direction or "ASC").upper()
        if direction not in ("ASC", "DESC"):
            raise invalid_input(f"order direction must be ASC or DESC, got {direction!r}")
        descending = direction == "DESC"
        if nulls is None:
            nulls_first = descending  # PostgreSQL's default, stated explicitly
        elif str(nulls).upper() in ("FIRST", "LAST"):
            nulls_first = str(nulls).upper() == "FIRST"
        else:
            raise invalid_input(f"nulls must be FIRST or LAST, got {nulls!r}")
        if source_key == "id":
            keys.append(SortKey(source_key, ID_COLUMN, descending, nulls_first))
        else:
            cast = SCALAR_CASTS.get(kind)
            expression = typed_at((source_key,), cast)
            keys.append(SortKey(source_key, expression, descending, nulls_first, cast))
    return keys


def _parts(item: Any) -> tuple[str, Any, Any]:
    if isinstance(item, str):
        return item, None, None
    if isinstance(item, Mapping):
        if "field" not in item:
            raise invalid_input(f"an order key needs a field, got {item!r}")
        return item["field"], item.get("direction"), item.get("nulls")
    if isinstance(item, (tuple, list)) and 1 <= len(item) <= 3:
        field, direction, nulls = (*item, None, None)[:3]
        return field, direction, nulls
    raise invalid_input(f"cannot read order key {item!r}")


def build_order_by(keys: Sequence[SortKey]) -> sql.Composable:
    """`` ORDER BY a ASC NULLS LAST, b DESC NULLS FIRST`` (empty when there are no keys)."""
    if not keys:
        return sql.SQL("")
    return sql.SQL(" ORDER BY {}").format(sql.SQL(", ").join(key.render() for key in keys))
