"""The registry: every declared type, enum, query and mutation, by GraphQL name.

Decorators add to the module-global default registry unless given ``registry=``; tests
build isolated schemas from their own ``Registry()``.

Example::

    registry = Registry()

    @fraiseql.types.type(sql_source="v_user", registry=registry)
    class User:
        id: ID

    schema = build_schema(registry)
"""

from __future__ import annotations

from typing import Any

from fraiseql.types.definitions import (
    EnumDefinition,
    MutationDefinition,
    QueryDefinition,
    TypeDefinition,
)


class RegistryError(ValueError):
    """Two declarations claim the same GraphQL name."""


class Registry:
    """Declarations by GraphQL name; names are unique per kind of root field and per type."""

    def __init__(self) -> None:
        self._types: dict[str, TypeDefinition | EnumDefinition] = {}
        self._queries: dict[str, QueryDefinition] = {}
        self._mutations: dict[str, MutationDefinition] = {}

    def add_type(self, definition: TypeDefinition | EnumDefinition) -> None:
        self._add(self._types, definition.graphql_name, definition, "type")

    def add_query(self, definition: QueryDefinition) -> None:
        self._add(self._queries, definition.graphql_name, definition, "query field")

    def add_mutation(self, definition: MutationDefinition) -> None:
        self._add(self._mutations, definition.graphql_name, definition, "mutation field")

    @staticmethod
    def _add(table: dict[str, Any], name: str, definition: Any, what: str) -> None:
        existing = table.get(name)
        if existing is not None and _origin(existing) != _origin(definition):
            raise RegistryError(
                f"the {what} name {name!r} is already declared by {_origin(existing)!r}"
            )
        table[name] = definition

    @property
    def types(self) -> list[TypeDefinition | EnumDefinition]:
        return list(self._types.values())

    @property
    def queries(self) -> list[QueryDefinition]:
        return list(self._queries.values())

    @property
    def mutations(self) -> list[MutationDefinition]:
        return list(self._mutations.values())

    def clear(self) -> None:
        """Forget every declaration (for tests that reuse the default registry)."""
        self._types.clear()
        self._queries.clear()
        self._mutations.clear()

    def __repr__(self) -> str:
        return (
            f"Registry(types={len(self._types)}, queries={len(self._queries)}, "
            f"mutations={len(self._mutations)})"
        )


def _origin(definition: Any) -> Any:
    """What a definition was made from: re-declaring the same object is not a clash."""
    if isinstance(definition, QueryDefinition):
        return definition.resolver or (definition.kind, definition.type_cls)
    return definition.cls


_DEFAULT = Registry()


def default_registry() -> Registry:
    """The module-global registry used when a decorator is given no ``registry=``."""
    return _DEFAULT
