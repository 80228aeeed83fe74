"""``build_schema``: the graphql-core schema of a registry.

Example::

    schema = build_schema(registry)
    graphql_sync(schema, "{ __schema { queryType { name } } }")
"""

from __future__ import annotations

from graphql import GraphQLObjectType, GraphQLSchema, specified_directives, validate_schema

from fraiseql.rbac.directives import RBAC_DIRECTIVES, attach_directives
from fraiseql.rbac.enforcement import FIELD_DENIAL_KEY, FIELD_DENIAL_MODES

from fraiseql.schema.graphql_types import TypeMapper
from fraiseql.schema.mutations import mutation_field
from fraiseql.schema.root_fields import query_field
from fraiseql.sql import DEFAULT_MAX_LIMIT
from fraiseql.types.definitions import EnumDefinition, TypeDefinition
from fraiseql.types.registry import Registry, default_registry


class SchemaError(ValueError):
    """The declarations do not make a valid schema (the message says which and why)."""


def build_schema(
    registry: Registry | None = None,
    *,
    max_limit: int = DEFAULT_MAX_LIMIT,
    field_denial: str = "error",
) -> GraphQLSchema:
    """Build the schema: every declared type, the Query fields, the Mutation fields.

    ``max_limit`` bounds ``limit`` and ``first`` (a larger value is a clear error; an
    absent ``limit`` means ``max_limit``). ``field_denial`` is what a field the user may
    not see does: ``"error"`` refuses the request (403), ``"null"`` nulls the field with
    an error entry (see ``fraiseql.rbac.enforcement``).
    """
    if field_denial not in FIELD_DENIAL_MODES:
        raise SchemaError(f"field_denial must be one of {FIELD_DENIAL_MODES}, not {field_denial!r}")
    registry = registry or default_registry()
    if not registry.queries:
        raise SchemaError("a schema needs at least one query (list_query, get_query, @query, ...)")
    mapper = TypeMapper()
    query_fields = {q.graphql_name: query_field(mapper, q, max_limit) for q in registry.queries}
    mutation_fields = {m.graphql_name: mutation_field(mapper, m) for m in registry.mutations}
    # Declared types nothing refers to are still part of the API.
    extra_types = []
    for definition in registry.types:
        if isinstance(definition, EnumDefinition):
            extra_types.append(mapper.enum_type(definition.cls))
        elif isinstance(definition, TypeDefinition) and definition.kind == "type":
            extra_types.append(mapper.object_type(definition.cls))
        elif isinstance(definition, TypeDefinition):
            extra_types.append(mapper.input_type(definition.cls))
    schema = GraphQLSchema(
        query=GraphQLObjectType("Query", query_fields),
        mutation=GraphQLObjectType("Mutation", mutation_fields) if mutation_fields else None,
        types=extra_types,
        directives=[*specified_directives, *RBAC_DIRECTIVES],
        extensions={FIELD_DENIAL_KEY: field_denial},
    )
    attach_directives(schema)
    errors = _validation_errors(schema)
    if errors:
        raise SchemaError("invalid schema: " + "; ".join(errors))
    return schema


def _validation_errors(schema: GraphQLSchema) -> list[str]:
    return [error.message for error in validate_schema(schema)]
