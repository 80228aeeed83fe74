"""Root fields: ``list_query``, ``get_query``, ``connection_query``, ``@query``, ``@mutation``.

The first three expose a view-backed ``@type`` without writing a resolver (the fast
path serves them straight from SQL); ``@query`` declares a custom resolver and
``@mutation`` a PostgreSQL function call.

Example::

    posts = list_query(Post, name="posts")
    post = get_query(Post, name="post")

    @query
    async def post_count(info) -> int:
        return await info.context["repository"].count(Post)

    @mutation(function="fn_create_post", invalidates=("tb_post",))
    class CreatePost:
        input: CreatePostInput
        success: CreatePostSuccess
        error: CreatePostError
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fraiseql.types.definitions import (
    DEFINITION_ATTR,
    MutationDefinition,
    QueryDefinition,
    TypeDefinition,
    definition_of,
    docstring_of,
)
from fraiseql.types.naming import to_camel_case, to_lower_camel, to_snake_case
from fraiseql.types.registry import Registry, default_registry


def _view_type(cls: Any, what: str) -> TypeDefinition:
    definition = definition_of(cls)
    if not isinstance(definition, TypeDefinition) or definition.kind != "type":
        raise TypeError(f"{what} needs an @type class, got {cls!r}")
    if not definition.sql_source:
        raise TypeError(f"{what}({cls.__name__}) needs @type(sql_source=...) on the class")
    return definition


def _root_query(
    kind: str, cls: Any, name: str, description: str | None, registry: Registry | None
) -> QueryDefinition:
    _view_type(cls, f"{kind} query")
    definition = QueryDefinition(kind=kind, graphql_name=name, type_cls=cls, description=description)
    (registry or default_registry()).add_query(definition)
    return definition


def list_query(
    cls: type, *, name: str | None = None, description: str | None = None,
    registry: Registry | None = None,
) -> QueryDefinition:
    """``posts(where, orderBy, limit, offset): [Post!]!`` over the type's view."""
    return _root_query("list", cls, name or to_lower_camel(cls.__name__) + "s", description, registry)


def get_query(
    cls: type, *, name: str | None = None, description: str | None = None,
    registry: Registry | None = None,
) -> QueryDefinition:
    """``post(id: ID!): Post`` by the view's ``id`` column."""
    return _root_query("one", cls, name or to_lower_camel(cls.__name__), description, registry)


def connection_query(
    cls: type, *, name: str | None = None, description: str | None = None,
    registry: Registry | None = None,
) -> QueryDefinition:
    """``postsConnection(first, after, where, orderBy): PostConnection!`` (keyset pages)."""
    default = to_lower_camel(cls.__name__) + "sConnection"
    return _root_query("connection", cls, name or default, description, registry)


def query(
    func: Any = None, /, *, name: str | None = None, description: str | None = None,
    registry: Registry | None = None,
) -> Any:
    """Declare a custom root query ``f(info, ...) -> T`` run by graphql-core.

    Arguments after ``info`` become GraphQL arguments; the function may be async and is
    returned unchanged.
    """

    def decorate(target: Callable[..., Any]) -> Callable[..., Any]:
        definition = QueryDefinition(
            kind="custom",
            graphql_name=name or to_camel_case(target.__name__),
            resolver=target,
            description=description or docstring_of(target),
        )
        (registry or default_registry()).add_query(definition)
        setattr(target, DEFINITION_ATTR, definition)
        return target

    return decorate(func) if func is not None else decorate


def mutation(
    cls: Any = None, /, *, function: str | None = None, invalidates: Sequence[str] = (),
    name: str | None = None, description: str | None = None, registry: Registry | None = None,
) -> Any:
    """Declare ``createPost(input: CreatePostInput!): CreatePostResult!``.

    ``function`` is the PostgreSQL function ``fn(input jsonb) returns jsonb`` (default
    ``fn_<snake_case class name>``); ``invalidates`` names the tables whose cached
    results the mutation makes stale.
    """

    def decorate(target: type) -> type:
        definition = MutationDefinition(
            cls=target,
            graphql_name=name or to_lower_camel(target.__name__),
            function=function or "fn_" + to_snake_case(target.__name__),
            invalidates=tuple(invalidates),
            description=description or docstring_of(target),
        )
        setattr(target, DEFINITION_ATTR, definition)
        (registry or default_registry()).add_mutation(definition)
        return target

    return decorate(cls) if cls is not None else decorate
