"""Reading a GraphQL-over-HTTP request: method, media type, size limit, JSON shape.

Everything that is wrong with the HTTP request itself becomes a GraphQLRequestError with
its own code and status, before any GraphQL work is done.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from fraiseql.config import FraiseQLConfig
from fraiseql.errors import GraphQLRequestError
from fraiseql.http.body import BODY_KEY
from fraiseql.execution.executor import GraphQLRequest

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
APPLICATION_JSON = "application/json"


def response_media_type(request: Request) -> str:
    """The media type to answer with, from the Accept header (spec: default JSON)."""
    accept = request.headers.get("accept", "")
    if not accept:
        return APPLICATION_JSON
    ranges = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    for media in ranges:
        if media == GRAPHQL_RESPONSE_JSON:
            return GRAPHQL_RESPONSE_JSON
        if media in (APPLICATION_JSON, "application/*", "*/*"):
            return APPLICATION_JSON
    raise GraphQLRequestError(
        f"Cannot answer with any of the accepted media types; use {GRAPHQL_RESPONSE_JSON} "
        f"or {APPLICATION_JSON}",
        "NOT_ACCEPTABLE",
        status=406,
    )


async def read_body(request: Request, config: FraiseQLConfig) -> bytes:
    """The request body, refusing more than ``max_body_bytes`` without reading it all."""
    limit = config.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> GraphQLRequestError:
    return GraphQLRequestError(
        f"Request body exceeds the limit of {limit} bytes", "PAYLOAD_TOO_LARGE", status=413
    )


async def parse_post(request: Request, config: FraiseQLConfig) -> list[GraphQLRequest] | GraphQLRequest:
    """One request, or a batch (a JSON array), from a POST body."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = request.scope.get(BODY_KEY)  # read already, within the guard's limits
    if body is None:
        body = await read_body(request, config)
    if content_type == "application/graphql":
        return GraphQLRequest(query=body.decode("utf-8", errors="replace"))
    if content_type not in (APPLICATION_JSON, ""):
        raise GraphQLRequestError(
            f"Unsupported Content-Type {content_type!r}; send {APPLICATION_JSON}",
            "UNSUPPORTED_MEDIA_TYPE",
            status=415,
        )
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise GraphQLRequestError(f"Request body is not valid JSON: {exc}", "BAD_REQUEST") from None
    if isinstance(payload, list):
        if not payload:
            raise GraphQLRequestError("A batch must contain at least one request", "BAD_REQUEST")
        if len(payload) > config.max_batch_size:
            raise GraphQLRequestError(
                f"Batch of {len(payload)} requests exceeds the maximum of {config.max_batch_size}",
                "BATCH_TOO_LARGE",
            )
        return [_from_mapping(item) for item in payload]
    return _from_mapping(payload)


def parse_get(request: Request) -> GraphQLRequest:
    params = request.query_params
    variables: Any = params.get("variables")
    if variables:
        try:
            variables = json.loads(variables)
        except ValueError:
            raise GraphQLRequestError("The 'variables' parameter is not valid JSON", "BAD_REQUEST") from None
    return _from_mapping(
        {"query": params.get("query"), "variables": variables, "operationName": params.get("operationName")}
    )


def _from_mapping(payload: Any) -> GraphQLRequest:
    if not isinstance(payload, dict):
        raise GraphQLRequestError("A GraphQL request must be a JSON object", "BAD_REQUEST")
    query = payload.get("query")
    if not isinstance(query, str) or not query.strip():
        raise GraphQLRequestError("The request has no 'query' string", "BAD_REQUEST")
    variables = payload.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise GraphQLRequestError("'variables' must be a JSON object", "BAD_REQUEST")
    operation_name = payload.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise GraphQLRequestError("'operationName' must be a string", "BAD_REQUEST")
    return GraphQLRequest(query=query, variables=variables, operation_name=operation_name or None)
