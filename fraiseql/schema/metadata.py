"""FraiseQL's metadata on graphql-core objects, under ``extensions["fraiseql"]``.

The fast path reads it to plan a query without Python resolvers: which view backs a
type, which document key a field reads, which root fields it can turn into one SQL
statement (``build_sql``).

Example::

    field = schema.query_type.fields["posts"]
    meta = field.extensions["fraiseql"]          # RootFieldMeta(kind="list", ...)
    query, params = meta.build_sql({"limit": 10})
    schema.get_type("Post").extensions["fraiseql"].fields["publishedAt"].source_key
    # "published_at"
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

EXTENSION_KEY = "fraiseql"

BuildSql = Callable[[dict[str, Any]], tuple[sql.Composed, dict[str, Any]]]


@dataclass(frozen=True)
class FieldMeta:
    """An object field: ``source_key`` is its JSONB key; ``computed`` for ``@field``."""

    python_name: str
    graphql_name: str
    source_key: str
    computed: bool = False
    requirement: Any = None  # fraiseql.auth.Requirement of a computed field, or None


@dataclass(frozen=True)
class TypeMeta:
    """An object type: its class, GraphQL name, view or table (or None), fields by GraphQL name.

    ``projection_of``: the view whose documents the table ``sql_source`` stores (cache tags).
    """

    cls: type
    graphql_name: str
    sql_source: str | None
    fields: dict[str, FieldMeta] = field(default_factory=dict)
    requirement: Any = None  # fraiseql.auth.Requirement on the class, or None
    projection_of: str | None = None


@dataclass(frozen=True)
class RootFieldMeta:
    """A Query or Mutation field.

    ``kind``: "list", "one", "connection", "custom" (Query) or "mutation".
    ``build_sql(args)`` is set for "list" and "one": the complete
    ``SELECT data::text FROM <view> ...`` for the graphql-core-coerced ``args``.
    Mutations carry their SQL ``function`` and the tables they ``invalidates``.
    ``requirement`` is an access rule (set by fraiseql.auth; None means public).
    """

    kind: str
    type_meta: TypeMeta | None
    graphql_name: str = ""
    build_sql: BuildSql | None = None
    function: str | None = None
    invalidates: tuple[str, ...] = ()
    requirement: Any = None


def fraiseql_meta(extensions: dict[str, Any] | None) -> Any:
    """``extensions["fraiseql"]`` or None."""
    return (extensions or {}).get(EXTENSION_KEY)
