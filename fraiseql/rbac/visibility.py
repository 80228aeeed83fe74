"""Per-caller views of a schema, so that introspection shows only what the caller may use.

``create_app(hide_unauthorized_in_introspection=True)`` answers ``__schema`` and
``__type`` from a *view*: a copy of the schema without the queries, mutations, types and
fields whose requirement (``@requires_auth``, ``requires_role``, ``requires_permission``)
the caller does not meet, and without what only they lead to (a field whose type is
hidden, a union whose members are all hidden, a type left without fields, input and
payload types of hidden mutations). A requirement counts as met only when
``check_access`` would let it through, so a failing permission source hides (deny by
default).

Views are built once per *visibility*: the set of the schema's distinct requirements the
caller meets. Every user with the same rights shares one view; there are at most
``2 ** len(requirements)`` and a bounded LRU keeps ``max_views`` of them.

Only introspection runs on a view. Everything else still runs on the full schema, and
validation too: a misspelt field can still be answered "Did you mean ...?" with a hidden
name, and selecting a hidden field is a 403, not a 400. Hiding is tidiness, not secrecy.

Example::

    views = VisibleSchemas(schema)
    graphql_sync(views.for_user(None), "{ __schema { types { name } } }")  # public only
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from threading import Lock
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_introspection_type,
)

from fraiseql.auth.requirements import Requirement
from fraiseql.errors import FraiseQLError
from fraiseql.rbac.enforcement import check_access

# fraiseql.schema.metadata.EXTENSION_KEY; not imported, as fraiseql.schema imports fraiseql.rbac.
_EXTENSION_KEY = "fraiseql"

_COMPOSITE = (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType)


def requirement_of(holder: Any) -> Requirement | None:
    return getattr((getattr(holder, "extensions", None) or {}).get(_EXTENSION_KEY), "requirement", None)


def meets(requirement: Requirement | None, user: Any) -> bool:
    """Whether ``check_access`` lets ``user`` through ``requirement`` (503s count as no)."""
    try:
        check_access(requirement, user)
    except FraiseQLError:
        return False
    return True


def schema_requirements(schema: GraphQLSchema) -> tuple[Requirement, ...]:
    """Every distinct requirement on the schema's object types and their fields."""
    found: dict[Requirement, None] = {}
    for named in schema.type_map.values():
        if isinstance(named, GraphQLObjectType) and not is_introspection_type(named):
            for holder in (named, *named.fields.values()):
                requirement = requirement_of(holder)
                if requirement is not None:
                    found[requirement] = None
    return tuple(found)


class VisibleSchemas:
    """The views of one schema, by visibility, in a thread-safe bounded LRU."""

    def __init__(self, schema: GraphQLSchema, *, max_views: int = 64) -> None:
        if max_views < 1:
            raise ValueError("max_views must be at least 1")
        self.schema = schema
        self.requirements = schema_requirements(schema)
        self.max_views = max_views
        self.built = 0  # how many views were built (tests, and a bound worth watching)
        self._views: OrderedDict[frozenset[Requirement], GraphQLSchema] = OrderedDict()
        self._lock = Lock()

    def visibility(self, user: Any) -> frozenset[Requirement]:
        """The requirements ``user`` meets: equal for users who may see the same things."""
        return frozenset(r for r in self.requirements if meets(r, user))

    def for_user(self, user: Any) -> GraphQLSchema:
        """The schema as ``user`` may see it (the full schema when nothing is protected)."""
        if not self.requirements:
            return self.schema
        key = self.visibility(user)
        with self._lock:
            view = self._views.get(key)
            if view is not None:
                self._views.move_to_end(key)
                return view
        view = view_of(self.schema, key.__contains__)
        with self._lock:
            self.built += 1
            self._views[key] = view
            while len(self._views) > self.max_views:
                self._views.popitem(last=False)
        return view


def view_of(schema: GraphQLSchema, allowed: Callable[[Requirement], bool]) -> GraphQLSchema:
    """A copy of ``schema`` without what ``allowed`` refuses (see the module docstring).

    Object, interface and union types are copied (their fields or members differ);
    scalars, enums and input types are shared with the original, as nothing in them
    can be protected.
    """

    def permitted(holder: Any) -> bool:
        requirement = requirement_of(holder)
        return requirement is None or allowed(requirement)

    kept = _kept_types(schema, permitted)
    copies: dict[str, GraphQLNamedType] = {}

    def remap(type_: Any) -> Any:
        if isinstance(type_, GraphQLNonNull):
            return GraphQLNonNull(remap(type_.of_type))
        if isinstance(type_, GraphQLList):
            return GraphQLList(remap(type_.of_type))
        return copies.get(type_.name, type_)

    def fields_of(original: GraphQLObjectType | GraphQLInterfaceType) -> dict[str, GraphQLField]:
        return {
            name: GraphQLField(**{**field.to_kwargs(), "type_": remap(field.type)})
            for name, field in original.fields.items()
            if _field_kept(field, kept, permitted)
        }

    for named in kept.values():
        if isinstance(named, (GraphQLObjectType, GraphQLInterfaceType)):
            kind = type(named)
            copies[named.name] = kind(**{
                **named.to_kwargs(),
                "fields": (lambda original=named: fields_of(original)),
                "interfaces": (lambda original=named: [copies[i.name] for i in original.interfaces if i.name in copies]),
            })
        elif isinstance(named, GraphQLUnionType):
            copies[named.name] = GraphQLUnionType(**{
                **named.to_kwargs(),
                "types": (lambda original=named: [copies[m.name] for m in original.types if m.name in copies]),
            })

    query = copies[schema.query_type.name]  # type: ignore[union-attr]  # always kept, maybe empty
    mutation = copies.get(schema.mutation_type.name) if schema.mutation_type else None
    unreachable = _unreachable(schema)
    view = GraphQLSchema(
        query=query,
        mutation=mutation,
        types=[copies.get(name, kept[name]) for name in unreachable if name in kept],
        directives=schema.directives,
        description=schema.description,
        extensions=schema.extensions,
    )
    if not query.fields:  # type: ignore[union-attr]
        # Every query is hidden: an empty Query is the truth for this caller. graphql-core
        # refuses to execute on a schema it finds invalid, and an object type without
        # fields is invalid; only introspection ever runs on a view, which needs nothing
        # but the type map, so this view is declared checked.
        view._validation_errors = []  # noqa: SLF001
    return view


def _kept_types(schema: GraphQLSchema, permitted: Callable[[Any], bool]) -> dict[str, GraphQLNamedType]:
    """The named types a view keeps: a fixpoint, since hiding one type can empty another."""
    kept = {
        name: named for name, named in schema.type_map.items()
        if not is_introspection_type(named) and (not isinstance(named, GraphQLObjectType) or permitted(named))
    }
    query_name = schema.query_type.name if schema.query_type else None
    changed = True
    while changed:
        changed = False
        for name, named in list(kept.items()):
            if isinstance(named, (GraphQLObjectType, GraphQLInterfaceType)):
                empty = not any(_field_kept(f, kept, permitted) for f in named.fields.values())
            elif isinstance(named, GraphQLUnionType):
                empty = not any(m.name in kept for m in named.types)
            else:
                continue
            if empty and name != query_name:  # Query stays, even empty; an empty Mutation goes
                del kept[name]
                changed = True
    return kept


def _field_kept(field: GraphQLField, kept: dict[str, GraphQLNamedType], permitted: Callable[[Any], bool]) -> bool:
    named = get_named_type(field.type)
    return permitted(field) and (not isinstance(named, _COMPOSITE) or named.name in kept)


def _unreachable(schema: GraphQLSchema) -> list[str]:
    """Named types that no root reaches (declared for their own sake, kept in views)."""
    seen: set[str] = set()
    pending: list[Any] = [t for t in (schema.query_type, schema.mutation_type, schema.subscription_type) if t]
    while pending:
        named = get_named_type(pending.pop())
        if named.name in seen:
            continue
        seen.add(named.name)
        pending.extend(_references(named))
    return [
        name for name, named in schema.type_map.items()
        if name not in seen and not is_introspection_type(named) and not name.startswith("__")
    ]


def _references(named: Any) -> Iterable[Any]:
    if isinstance(named, (GraphQLObjectType, GraphQLInterfaceType)):
        for field in named.fields.values():
            yield field.type
            yield from (arg.type for arg in field.args.values())
        yield from named.interfaces
    elif isinstance(named, GraphQLUnionType):
        yield from named.types
    elif isinstance(named, GraphQLInputObjectType):
        yield from (field.type for field in named.fields.values())
