"""Resolvers for the graphql-core path (custom queries, connections, computed fields,
mutations; the fast path does not call them for view-backed list/one fields).

Root resolvers run SQL through ``info.context["db"]`` with the request's
``info.context["request_context"]`` and decode rows with ``json``; object fields read
the document's snake_case keys (or attributes of a Python object).

Example::

    GraphQLField(post_type, resolve=resolve_one(meta))  # meta.build_sql -> one document
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable
from typing import Any

from graphql import GraphQLResolveInfo

from fraiseql.types.documents import from_document

Resolver = Callable[..., Any]


def database(info: GraphQLResolveInfo) -> Any:
    return info.context["db"]


def request_context(info: GraphQLResolveInfo) -> Any:
    context = info.context
    return context.get("request_context") if isinstance(context, dict) else None


def resolve_stored(source_key: str, python_name: str) -> Resolver:
    """Read ``source_key`` from a document dict, or ``python_name`` from an object."""

    def resolve(obj: Any, _info: GraphQLResolveInfo, **_args: Any) -> Any:
        value = obj.get(source_key) if isinstance(obj, dict) else getattr(obj, python_name, None)
        return value.name if isinstance(value, enum.Enum) else value

    return resolve


def resolve_computed(cls: type, method: Callable[..., Any]) -> Resolver:
    """Call ``method(instance, info, **args)`` with an instance built from the document."""

    def resolve(obj: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
        instance = obj if isinstance(obj, cls) else from_document(cls, obj)
        return method(instance, info, **args)

    return resolve


def resolve_list(build_sql: Callable[[dict[str, Any]], Any]) -> Resolver:
    async def resolve(_root: Any, info: GraphQLResolveInfo, **args: Any) -> list[Any]:
        query, params = build_sql(args)
        texts = await database(info).fetch_texts(query, params, context=request_context(info))
        return [json.loads(text) for text in texts]

    return resolve


def resolve_one(build_sql: Callable[[dict[str, Any]], Any]) -> Resolver:
    async def resolve(_root: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
        query, params = build_sql(args)
        text = await database(info).fetch_text(query, params, context=request_context(info))
        return None if text is None else json.loads(text)

    return resolve


def resolve_custom(func: Callable[..., Any]) -> Resolver:
    """A ``@query`` function: ``func(info, **args)`` (sync or async)."""

    def resolve(_root: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
        return func(info, **args)

    return resolve
