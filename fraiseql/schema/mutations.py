"""Mutation fields: ``createPost(input: CreatePostInput!): CreatePostResult!``.

The resolver sends the input (snake_case keys, class defaults filled in, JSON-ready
values) to the PostgreSQL function through ``run_mutation`` and turns the function's
``{"status", "message", "object", "code"?}`` into the success type (status
``"success"``) or the error type (any other status), members of the result union.

Filling a result type: ``message`` <- result["message"]; ``status`` <- result["status"];
``code`` on the error type <- result["code"], else the status; a field typed with an
``@type`` class <- result[field] if present, else result["object"]; any other field <-
result[field], else the same key of result["object"].

Example::

    payload = mutation_outcome({"status": "success", "message": "ok", "object": {...}},
                               CreatePostSuccess, CreatePostError)
    payload.typename  # "CreatePostSuccess"
"""

from __future__ import annotations

import dataclasses
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLField,
    GraphQLNonNull,
    GraphQLResolveInfo,
    GraphQLUnionType,
)

from fraiseql.auth.requirements import requirement_of
from fraiseql.mutations.runner import run_mutation
from fraiseql.schema.graphql_types import TypeMapper
from fraiseql.schema.metadata import EXTENSION_KEY, RootFieldMeta
from fraiseql.schema.resolvers import database, request_context
from fraiseql.types.definitions import MutationDefinition, TypeDefinition, definition_of
from fraiseql.types.documents import to_json_value


class MutationPayload(dict):  # type: ignore[type-arg]
    """The fields of a success or error object, tagged with its GraphQL type name."""

    def __init__(self, typename: str, fields: dict[str, Any]) -> None:
        super().__init__(fields)
        self.typename = typename


def mutation_outcome(result: dict[str, Any], success: type, error: type) -> MutationPayload:
    """The success or error object for a function result (see the module docstring)."""
    status = result.get("status")
    is_success = status == "success"
    definition: TypeDefinition = definition_of(success if is_success else error)
    document = result.get("object")
    document = document if isinstance(document, dict) else {}
    fields: dict[str, Any] = {}
    for field in definition.fields.values():
        key = field.python_name
        if key == "message":
            fields[key] = result.get("message")
        elif key == "status":
            fields[key] = status
        elif key == "code" and not is_success:
            fields[key] = result.get("code") or status
        elif isinstance(definition_of(field.type_ref.innermost.base), TypeDefinition):
            fields[key] = result[key] if key in result else result.get("object")
        else:
            fields[key] = result[key] if key in result else document.get(key)
    return MutationPayload(definition.graphql_name, fields)


def input_payload(cls: type, value: dict[str, Any]) -> dict[str, Any]:
    """The coerced input with the class's defaults for absent fields, JSON-ready."""
    definition: TypeDefinition = definition_of(cls)
    payload = {}
    for field in definition.fields.values():
        if field.python_name in value:
            item = value[field.python_name]
            nested = field.type_ref.base
            if isinstance(item, dict) and isinstance(definition_of(nested), TypeDefinition):
                item = input_payload(nested, item)
            payload[field.python_name] = item
        elif field.default is not dataclasses.MISSING:
            payload[field.python_name] = field.default
    return to_json_value(payload)


def mutation_field(mapper: TypeMapper, mutation: MutationDefinition) -> GraphQLField:
    parts = mutation.parts
    success_type = mapper.object_type(parts["success"])
    error_type = mapper.object_type(parts["error"])
    union_name = f"{mutation.cls.__name__}Result"
    union = mapper.named(
        union_name,
        lambda: GraphQLUnionType(
            union_name,
            [success_type, error_type],
            resolve_type=lambda value, _info, _type: getattr(value, "typename", None),
            description=f"{success_type.name} when the mutation succeeded, else {error_type.name}.",
        ),
    )
    input_cls = parts["input"]

    async def resolve(_root: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> Any:  # noqa: A002
        payload = input_payload(input_cls, input)
        config = info.context.get("config") if isinstance(info.context, dict) else None
        result = await run_mutation(
            database(info),
            function=mutation.function,
            input=payload,
            context=request_context(info),
            idempotency_key=payload.get("idempotency_key"),
            retries=config.mutation_retry_attempts if config is not None else 3,
        )
        return mutation_outcome(result, parts["success"], parts["error"])

    meta = RootFieldMeta(
        "mutation", mapper.type_meta(parts["success"]), mutation.graphql_name,
        function=mutation.function, invalidates=mutation.invalidates,
        requirement=requirement_of(mutation.cls),
    )
    return GraphQLField(
        GraphQLNonNull(union),
        args={"input": GraphQLArgument(GraphQLNonNull(mapper.input_type(input_cls)))},
        resolve=resolve,
        description=mutation.description,
        extensions={EXTENSION_KEY: meta},
    )
