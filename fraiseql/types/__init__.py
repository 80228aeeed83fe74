"""Declaring a GraphQL API in Python: decorators, scalars, the registry.

Example::

    import fraiseql.types as ft

    @ft.type(sql_source="v_user")
    class User:
        id: ft.ID
        name: str

    users = ft.list_query(User, name="users")
    schema = ft.build_schema()
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fraiseql.types.decorators import enum, field, input, type
from fraiseql.types.naming import to_camel_case, to_snake_case
from fraiseql.types.operations import connection_query, get_query, list_query, mutation, query
from fraiseql.types.registry import Registry, default_registry
from fraiseql.types.scalars import (
    ID,
    JSON,
    Date,
    DateScalar,
    DateTime,
    DateTimeScalar,
    Decimal,
    DecimalScalar,
    IDScalar,
    JSONScalar,
)

if TYPE_CHECKING:
    from graphql import GraphQLSchema


def build_schema(registry: Registry | None = None, **options: object) -> GraphQLSchema:
    """The graphql-core schema of ``registry`` (default: the global one).

    Same as ``fraiseql.schema.build_schema``; imported lazily because the schema
    package builds on this one.
    """
    from fraiseql.schema import build_schema as build

    return build(registry, **options)  # type: ignore[arg-type]


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
    "Registry",
    "build_schema",
    "connection_query",
    "default_registry",
    "enum",
    "field",
    "get_query",
    "input",
    "list_query",
    "mutation",
    "query",
    "to_camel_case",
    "to_snake_case",
    "type",
]
