"""Generated filter inputs: ``<T>WhereInput`` and the per-scalar ``<Scalar>Filter``s.

Each stored field of a type gets the filter of its kind (operators from
``fraiseql.sql.where.OPERATORS_BY_KIND``): ``title: StringFilter``, ``tags:
StringListFilter`` (``contains`` = the array holds the value), ``author:
UserWhereInput`` (a nested path), plus ``and``, ``or`` and ``not``. Lists of objects
are not filterable yet. Input fields carry ``out_name`` = the snake_case name, so the
coerced value is exactly what ``fraiseql.sql.where.build_where`` reads.

Example (SDL)::

    input PostWhereInput {
      title: StringFilter
      author: UserWhereInput
      and: [PostWhereInput!]
      or: [PostWhereInput!]
      not: PostWhereInput
    }
"""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
)

from fraiseql.schema.graphql_types import TypeMapper
from fraiseql.sql.where import GRAPHQL_OPERATORS, OPERATORS_BY_KIND
from fraiseql.types.annotations import TypeRef, scalar_kind
from fraiseql.types.definitions import EnumDefinition, TypeDefinition, definition_of

_DESCRIPTIONS = {
    "eq": "Equal to.",
    "neq": "Not equal to (a missing or null value never matches).",
    "in": "Equal to one of the values.",
    "nin": "Equal to none of the values (a missing or null value never matches).",
    "gt": "Greater than.",
    "gte": "Greater than or equal to.",
    "lt": "Less than.",
    "lte": "Less than or equal to.",
    "contains": "Contains the text (case-sensitive; % and _ match themselves).",
    "starts_with": "Starts with the text (case-sensitive; % and _ match themselves).",
    "like": "SQL LIKE pattern (% any text, _ one character).",
    "ilike": "Case-insensitive SQL LIKE pattern.",
    "is_null": "true: the value is null or missing; false: it is present.",
}


def _operator_field(operator: str, value_type: Any, kind: str) -> GraphQLInputField:
    description = _DESCRIPTIONS.get(operator)
    if kind == "list" and operator == "contains":
        description = "The list holds this value."
    if operator == "is_null":
        field_type: Any = GraphQLBoolean
    elif operator in ("in", "nin"):
        field_type = GraphQLList(GraphQLNonNull(value_type))
    else:
        field_type = value_type
    return GraphQLInputField(field_type, description=description, out_name=operator)


def scalar_filter(mapper: TypeMapper, ref: TypeRef) -> GraphQLInputObjectType | None:
    """The filter input for a non-object field (``StringFilter``, ``IntListFilter``, ...)."""
    inner = ref.innermost
    value_type = mapper.input(TypeRef(inner.base))
    named = value_type.of_type  # drop the NonNull
    kind = scalar_kind(inner.base) or "enum"
    if ref.is_list:
        kind, name = "list", f"{named.name}ListFilter"
        description = f"Filter on a list of {named.name}: contains = the list holds the value."
    else:
        name, description = f"{named.name}Filter", f"Filter on a {named.name} value."
    operators = OPERATORS_BY_KIND.get(kind, ())
    if not operators:
        return None

    def build() -> GraphQLInputObjectType:
        return GraphQLInputObjectType(
            name,
            {GRAPHQL_OPERATORS.get(op, op): _operator_field(op, named, kind) for op in operators},
            description=description,
        )

    return mapper.named(name, build)


def where_input(mapper: TypeMapper, cls: type) -> GraphQLInputObjectType:
    """``<T>WhereInput`` for an ``@type`` class (created once per schema)."""
    definition: TypeDefinition = definition_of(cls)
    name = f"{definition.graphql_name}WhereInput"

    def fields() -> dict[str, GraphQLInputField]:
        result = {}
        for f in definition.fields.values():
            filter_type = _field_filter(mapper, f.type_ref)
            if filter_type is not None:
                result[f.graphql_name] = GraphQLInputField(filter_type, out_name=f.python_name)
        self_type = mapper.named(name, lambda: None)
        result["and"] = GraphQLInputField(
            GraphQLList(GraphQLNonNull(self_type)), description="All of these filters match."
        )
        result["or"] = GraphQLInputField(
            GraphQLList(GraphQLNonNull(self_type)), description="At least one filter matches."
        )
        result["not"] = GraphQLInputField(self_type, description="This filter does not match.")
        return result

    return mapper.named(
        name,
        lambda: GraphQLInputObjectType(
            name, fields, description=f"Filter on {definition.graphql_name} documents."
        ),
    )


def _field_filter(mapper: TypeMapper, ref: TypeRef) -> Any:
    inner = ref.innermost
    target = definition_of(inner.base)
    if isinstance(target, TypeDefinition):
        return None if ref.is_list else where_input(mapper, inner.base)
    if scalar_kind(inner.base) is None and not isinstance(target, EnumDefinition):
        return None
    if ref.is_list and scalar_kind(inner.base) == "json":
        return None
    return scalar_filter(mapper, ref)
