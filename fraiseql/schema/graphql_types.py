"""Declared classes as graphql-core types: objects, inputs, enums and scalars.

``TypeMapper`` creates each GraphQL type once and caches it (also by name, for the
generated filter, order and connection types), so references between types, including
cycles, resolve to the same object. Object fields resolve from the document's
snake_case keys; computed fields get an instance built from the document.

Example::

    mapper = TypeMapper()
    post_type = mapper.object_type(Post)       # GraphQLObjectType "Post"
    mapper.output(parse_annotation(list[Post]))  # [Post!]!
"""

from __future__ import annotations

import datetime
import decimal
import enum
import uuid
from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLEnumValue,
    GraphQLField,
    GraphQLFloat,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInt,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
    Undefined,
)

from fraiseql.auth.requirements import requirement_of
from fraiseql.rbac.enforcement import guard_resolver
from fraiseql.schema.metadata import EXTENSION_KEY, FieldMeta, TypeMeta
from fraiseql.schema.resolvers import resolve_computed, resolve_stored
from fraiseql.types.annotations import AnnotationError, TypeRef
from fraiseql.types.definitions import (
    MISSING,
    ArgumentDefinition,
    EnumDefinition,
    TypeDefinition,
    definition_of,
)
from fraiseql.types.scalars import (
    ID,
    JSON,
    DateScalar,
    DateTimeScalar,
    DecimalScalar,
    IDScalar,
    JSONScalar,
)

SCALARS: dict[Any, Any] = {
    str: GraphQLString,
    int: GraphQLInt,
    float: GraphQLFloat,
    bool: GraphQLBoolean,
    ID: IDScalar,
    uuid.UUID: IDScalar,
    datetime.datetime: DateTimeScalar,
    datetime.date: DateScalar,
    decimal.Decimal: DecimalScalar,
    JSON: JSONScalar,
    dict: JSONScalar,
    Any: JSONScalar,
}


def wrap(named: Any, ref: TypeRef, inner: Callable[[TypeRef], Any]) -> Any:
    """Apply the list and non-null wrappers ``ref`` describes around a type."""
    graphql_type = GraphQLList(inner(ref.item)) if ref.is_list and ref.item else named
    return graphql_type if ref.nullable else GraphQLNonNull(graphql_type)


class TypeMapper:
    """Creates and caches the GraphQL types of one schema."""

    def __init__(self) -> None:
        self._by_class: dict[Any, GraphQLNamedType] = {}
        self._by_name: dict[str, GraphQLNamedType] = {}
        self.type_metas: dict[type, TypeMeta] = {}

    # -- generated types, shared by name -------------------------------------------------
    def named(self, name: str, factory: Callable[[], GraphQLNamedType]) -> Any:
        """The type called ``name``, created by ``factory`` the first time."""
        existing = self._by_name.get(name)
        if existing is None:
            existing = self._by_name[name] = factory()
        return existing

    def _remember(self, key: Any, graphql_type: GraphQLNamedType) -> None:
        other = self._by_name.get(graphql_type.name)
        if other is not None and other is not graphql_type:
            raise AnnotationError(f"two declarations produce the GraphQL type {graphql_type.name!r}")
        self._by_class[key] = graphql_type
        self._by_name[graphql_type.name] = graphql_type

    # -- annotations -------------------------------------------------------------------
    def output(self, ref: TypeRef) -> GraphQLOutputType:
        return wrap(self._named_output(ref.base) if not ref.is_list else None, ref, self.output)

    def input(self, ref: TypeRef) -> GraphQLInputType:
        return wrap(self._named_input(ref.base) if not ref.is_list else None, ref, self.input)

    def _named_output(self, base: Any) -> GraphQLNamedType:
        if base in SCALARS:
            return SCALARS[base]
        definition = definition_of(base)
        if isinstance(definition, EnumDefinition):
            return self.enum_type(base)
        if isinstance(definition, TypeDefinition) and definition.kind == "type":
            return self.object_type(base)
        raise AnnotationError(f"{base!r} cannot be an output type: declare it with @type or @enum")

    def _named_input(self, base: Any) -> GraphQLNamedType:
        if base in SCALARS:
            return SCALARS[base]
        definition = definition_of(base)
        if isinstance(definition, EnumDefinition):
            return self.enum_type(base)
        if isinstance(definition, TypeDefinition) and definition.kind == "input":
            return self.input_type(base)
        raise AnnotationError(f"{base!r} cannot be an input type: declare it with @input or @enum")

    # -- enums ---------------------------------------------------------------------------
    def enum_type(self, cls: type[enum.Enum]) -> GraphQLEnumType:
        if cls in self._by_class:
            return self._by_class[cls]  # type: ignore[return-value]
        definition: EnumDefinition = definition_of(cls)
        # The internal value is the member name: what views store and filters compare.
        graphql_type = GraphQLEnumType(
            definition.graphql_name,
            {member.name: GraphQLEnumValue(member.name) for member in cls},
            description=definition.description,
        )
        self._remember(cls, graphql_type)
        return graphql_type

    # -- objects -------------------------------------------------------------------------
    def type_meta(self, cls: type) -> TypeMeta:
        meta = self.type_metas.get(cls)
        if meta is None:
            definition: TypeDefinition = definition_of(cls)
            fields = {
                f.graphql_name: FieldMeta(f.python_name, f.graphql_name, f.source_key)
                for f in definition.fields.values()
            }
            for c in definition.computed.values():
                fields[c.graphql_name] = FieldMeta(
                    c.python_name, c.graphql_name, c.python_name, True, requirement_of(c.func)
                )
            meta = TypeMeta(
                cls, definition.graphql_name, definition.sql_source, fields, requirement_of(cls),
                definition.projection_of,
            )
            self.type_metas[cls] = meta
        return meta

    def object_type(self, cls: type) -> GraphQLObjectType:
        if cls in self._by_class:
            return self._by_class[cls]  # type: ignore[return-value]
        definition: TypeDefinition = definition_of(cls)
        meta = self.type_meta(cls)
        graphql_type = GraphQLObjectType(
            definition.graphql_name,
            lambda: self._object_fields(cls, definition, meta),
            description=definition.description,
            extensions={EXTENSION_KEY: meta},
        )
        self._remember(cls, graphql_type)
        return graphql_type

    def _object_fields(
        self, cls: type, definition: TypeDefinition, meta: TypeMeta
    ) -> dict[str, GraphQLField]:
        fields = {}
        for f in definition.fields.values():
            fields[f.graphql_name] = GraphQLField(
                self.output(f.type_ref),
                resolve=resolve_stored(f.source_key, f.python_name),
                description=f.description,
                extensions={EXTENSION_KEY: meta.fields[f.graphql_name]},
            )
        for c in definition.computed.values():
            fields[c.graphql_name] = GraphQLField(
                self.output(c.type_ref),
                args=self.arguments(c.arguments),
                # Checked again at resolution: in "null" field-denial mode, only here.
                resolve=guard_resolver(resolve_computed(cls, c.func), requirement_of(c.func)),
                description=c.description,
                extensions={EXTENSION_KEY: meta.fields[c.graphql_name]},
            )
        return fields

    def arguments(self, arguments: tuple[ArgumentDefinition, ...]) -> dict[str, GraphQLArgument]:
        return {
            a.graphql_name: GraphQLArgument(
                self.input(a.type_ref), default_value=graphql_default(a.default),
                out_name=a.python_name,
            )
            for a in arguments
        }

    # -- inputs --------------------------------------------------------------------------
    def input_type(self, cls: type) -> GraphQLInputObjectType:
        if cls in self._by_class:
            return self._by_class[cls]  # type: ignore[return-value]
        definition: TypeDefinition = definition_of(cls)
        graphql_type = GraphQLInputObjectType(
            definition.graphql_name,
            lambda: {
                f.graphql_name: GraphQLInputField(
                    self.input(f.type_ref), default_value=graphql_default(f.default),
                    description=f.description, out_name=f.python_name,
                )
                for f in definition.fields.values()
            },
            description=definition.description,
        )
        self._remember(cls, graphql_type)
        return graphql_type


def graphql_default(default: Any) -> Any:
    """A Python default as a GraphQL default value (enums by name); Undefined if none."""
    if default is MISSING:
        return Undefined
    if isinstance(default, enum.Enum):
        return default.name
    if default is None or isinstance(default, (str, int, float, bool)):
        return default
    if isinstance(default, (list, tuple)):
        return [graphql_default(item) for item in default]
    return Undefined  # not expressible in SDL: the Python side applies it
