"""Generated ordering inputs: ``<T>OrderByInput``, ``<T>OrderField``, direction and nulls.

``orderBy: [PostOrderByInput!]`` takes several keys, applied in order. The order field
enum lists the type's top-level scalar fields by GraphQL name; its internal values are
the document keys, which is what ``fraiseql.sql.order_by`` reads.

Example (SDL)::

    input PostOrderByInput {
      field: PostOrderField!
      direction: OrderDirection = ASC
      nulls: NullsOrder
    }
"""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLEnumValue,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLNonNull,
)

from fraiseql.schema.graphql_types import TypeMapper
from fraiseql.types.annotations import scalar_kind
from fraiseql.types.definitions import EnumDefinition, TypeDefinition, definition_of


def order_direction(mapper: TypeMapper) -> GraphQLEnumType:
    return mapper.named(
        "OrderDirection",
        lambda: GraphQLEnumType(
            "OrderDirection",
            {
                "ASC": GraphQLEnumValue("ASC", description="Smallest first."),
                "DESC": GraphQLEnumValue("DESC", description="Largest first."),
            },
            description="Sort direction.",
        ),
    )


def nulls_order(mapper: TypeMapper) -> GraphQLEnumType:
    return mapper.named(
        "NullsOrder",
        lambda: GraphQLEnumType(
            "NullsOrder",
            {
                "FIRST": GraphQLEnumValue("FIRST", description="Nulls before values."),
                "LAST": GraphQLEnumValue("LAST", description="Nulls after values."),
            },
            description="Where nulls sort; default: last for ASC, first for DESC.",
        ),
    )


def sortable_fields(definition: TypeDefinition) -> dict[str, str]:
    """GraphQL name -> document key of the fields that can be sorted on."""
    result = {}
    for f in definition.fields.values():
        base = f.type_ref.base
        if f.type_ref.is_list:
            continue
        kind = scalar_kind(base)
        if (kind is not None and kind != "json") or isinstance(definition_of(base), EnumDefinition):
            result[f.graphql_name] = f.python_name
    return result


def order_by_input(mapper: TypeMapper, cls: type) -> GraphQLInputObjectType:
    """``<T>OrderByInput`` for an ``@type`` class with a view."""
    definition: TypeDefinition = definition_of(cls)
    type_name = definition.graphql_name
    field_enum = mapper.named(
        f"{type_name}OrderField",
        lambda: GraphQLEnumType(
            f"{type_name}OrderField",
            {name: GraphQLEnumValue(key) for name, key in sortable_fields(definition).items()},
            description=f"Fields {type_name} can be sorted on.",
        ),
    )
    return mapper.named(
        f"{type_name}OrderByInput",
        lambda: GraphQLInputObjectType(
            f"{type_name}OrderByInput",
            {
                "field": GraphQLInputField(GraphQLNonNull(field_enum)),
                "direction": GraphQLInputField(order_direction(mapper), default_value="ASC"),
                "nulls": GraphQLInputField(nulls_order(mapper)),
            },
            description=f"One sort key for {type_name}; several keys apply in order.",
        ),
    )
