"""GraphQL selection -> plan spec for the response pipeline.

A plan spec says, for one object type, which output keys to write and where each
comes from in the JSONB document (docs/architecture.md, "Pipeline")::

    ("field", out_key, source_key, sub_spec_or_None)
    ("typename", out_key, type_name)

Selections are collected with graphql-core's own ``collect_sub_fields``, the
function its executor uses, so fragment spreads, inline fragments with their type
conditions, ``@skip``/``@include`` and the merging of repeated response keys mean
exactly what they mean on the graphql-core path. Specs are nested tuples, hashable,
so compiled plans are cached by spec.

Example::

    spec = plan_for_root_field(schema, field_node, fragments, variables, schema.query_type)
    # (("field", "id", "id", None), ("field", "createdAt", "created_at", None))
    plan = compiled_plan(spec)
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, TypeAlias

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    is_leaf_type,
    is_object_type,
)
from graphql.execution.collect_fields import collect_sub_fields

from fraiseql._fraiseql_rs import Plan, compile_plan
from fraiseql.errors import FraiseQLError

SpecEntry: TypeAlias = tuple[Any, ...]
Spec: TypeAlias = tuple[SpecEntry, ...]

PLAN_CACHE_SIZE = 1024


class PlanNotSupported(FraiseQLError):
    """The selection needs resolvers (computed fields, abstract types, arguments):
    the executor runs it through graphql-core instead."""

    default_code = "PLAN_NOT_SUPPORTED"


def plan_for_root_field(
    schema: GraphQLSchema,
    field_nodes: FieldNode | Sequence[FieldNode],
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
    parent_type: GraphQLObjectType,
) -> Spec:
    """The plan spec for the object (or list of objects) a root field returns.

    ``field_nodes`` is the root field's node, or all nodes merged under its response
    key. Raises ``PlanNotSupported`` when any part of the selection needs a resolver.
    """
    nodes = [field_nodes] if isinstance(field_nodes, FieldNode) else list(field_nodes)
    name = nodes[0].name.value
    field = parent_type.fields.get(name)
    if field is None:
        raise PlanNotSupported(f"{parent_type.name}.{name} is not a field")
    object_type = get_named_type(field.type)
    if not is_object_type(object_type):
        raise PlanNotSupported(f"{parent_type.name}.{name} does not return an object type")
    return _spec_for(schema, fragments, variables, object_type, nodes)


def _spec_for(
    schema: GraphQLSchema,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
    object_type: GraphQLObjectType,
    nodes: list[FieldNode],
) -> Spec:
    entries: list[SpecEntry] = []
    collected = collect_sub_fields(schema, fragments, variables, object_type, nodes)
    for out_key, sub_nodes in collected.items():
        name = sub_nodes[0].name.value
        if name == "__typename":
            entries.append(("typename", out_key, object_type.name))
            continue
        field = object_type.fields.get(name)
        if field is None:
            raise PlanNotSupported(f"{object_type.name}.{name} is not a field")
        source_key = _source_key(object_type, name, field)
        named = get_named_type(field.type)
        if is_leaf_type(named):
            sub = None
        elif is_object_type(named):
            sub = _spec_for(schema, fragments, variables, named, sub_nodes)
        else:
            raise PlanNotSupported(f"{object_type.name}.{name} returns an abstract type")
        entries.append(("field", out_key, source_key, sub))
    return tuple(entries)


def _source_key(object_type: GraphQLObjectType, name: str, field: GraphQLField) -> str:
    """The document key behind a field, or PlanNotSupported when a resolver is needed."""
    meta = (field.extensions or {}).get("fraiseql")
    source_key = getattr(meta, "source_key", None)
    if meta is None or not isinstance(source_key, str):
        raise PlanNotSupported(f"{object_type.name}.{name} has no document key")
    if getattr(meta, "computed", False):
        raise PlanNotSupported(f"{object_type.name}.{name} is a computed field")
    if field.args:
        raise PlanNotSupported(f"{object_type.name}.{name} takes arguments")
    return source_key


@lru_cache(maxsize=PLAN_CACHE_SIZE)
def compiled_plan(spec: Spec) -> Plan:
    """The compiled ``Plan`` for a spec, compiled once per distinct spec (LRU)."""
    return compile_plan(spec)


def compiled_plan_for_root_field(
    schema: GraphQLSchema,
    field_nodes: FieldNode | Sequence[FieldNode],
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
    parent_type: GraphQLObjectType,
) -> Plan:
    """``plan_for_root_field`` followed by the cached ``compiled_plan``."""
    return compiled_plan(plan_for_root_field(schema, field_nodes, fragments, variables, parent_type))
