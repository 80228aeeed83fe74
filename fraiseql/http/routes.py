"""Routes: ``/graphql`` (GET and POST), ``/health``, ``/ready``.

Status codes follow the GraphQL-over-HTTP specification's ``application/graphql-response+json``
rules for both media types: 400 for a request that cannot be executed (bad JSON, parse
or validation error, over a limit), 405 for a mutation over GET, 413 for an oversized
body, 415/406 for media types, 503 (with ``Retry-After``) when the database cannot
answer, and 200 once execution produced data. Every error carries ``extensions.code``;
no traceback ever reaches a client. Before a request gets here, ``RequestGuard`` may have
answered it: 408 (slow body), 503 ``OVERLOADED`` / ``SHUTTING_DOWN``, 504 (deadline).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from fraiseql import faults, telemetry
from fraiseql.context import RequestContext
from fraiseql.errors import FraiseQLError, GraphQLRequestError
from fraiseql.execution.executor import ExecutionOutcome, GraphQLRequest
from fraiseql.http.errors import error_response as _error_response
from fraiseql.http.graphiql import GRAPHIQL_HTML
from fraiseql.http.requests import (
    APPLICATION_JSON,
    parse_get,
    parse_post,
    response_media_type,
)

logger = logging.getLogger("fraiseql.http")
_HTTP_REQUEST = faults.point("http.request")


async def graphql_endpoint(request: Request) -> Response:
    """POST or GET /graphql: one request or a batch, timed and traced as a whole."""
    started = time.perf_counter()
    with telemetry.span("graphql.request", {"http.request.method": request.method}):
        response, operation = await _serve(request, request.app.state.fraiseql)
    telemetry.record_request(
        (time.perf_counter() - started) * 1000.0, operation, response.status_code
    )
    return response


async def _serve(request: Request, state: Any) -> tuple[Response, str]:
    media_type = APPLICATION_JSON
    try:
        if _HTTP_REQUEST.hooks:
            await _HTTP_REQUEST.fire(None, path=request.url.path, method=request.method)
        if request.method == "GET" and state.config.graphiql and _wants_graphiql(request):
            return HTMLResponse(GRAPHIQL_HTML), "graphiql"
        media_type = response_media_type(request)
        if state.executor is None:
            raise FraiseQLError("The server is starting", "SERVER_STARTING", status=503)
        parsed = parse_get(request) if request.method == "GET" else await parse_post(request, state.config)
        context = await _authenticate(request, state)
        if isinstance(parsed, list):
            outcomes = [await _execute_one(state, item, context, request) for item in parsed]
            body, status, operation = b"[" + b",".join(o.body for o in outcomes) + b"]", 200, "batch"
        else:
            outcomes = [await _execute_one(state, parsed, context, request)]
            body, status, operation = outcomes[0].body, outcomes[0].status, outcomes[0].operation_type
        response = Response(body, status_code=status, media_type=media_type)
        for outcome in outcomes:
            if outcome.headers:
                response.headers.update(outcome.headers)
        if status == 503 and "retry-after" not in response.headers:
            response.headers["Retry-After"] = str(state.config.retry_after_s)
        return response, operation
    except FraiseQLError as error:
        return _error_response(error, media_type, state.config.retry_after_s), "rejected"
    except Exception:  # noqa: BLE001 - the last line of defence: log it, never leak it
        logger.exception("unhandled error while serving %s %s", request.method, request.url.path)
        return _error_response(FraiseQLError("Internal server error"), media_type, 1), "failed"


async def _execute_one(
    state: Any, item: GraphQLRequest, context: RequestContext, request: Request
) -> ExecutionOutcome:
    if request.method == "GET":
        prepared = state.executor.documents.get(item.query)
        if prepared.operation(item.operation_name).operation.value != "query":
            raise GraphQLRequestError(
                "Only queries may be sent with GET; use POST for mutations",
                "METHOD_NOT_ALLOWED",
                status=405,
            )
    try:
        return await state.executor.execute(item, context, {"request": request})
    except GraphQLRequestError as error:
        errors = getattr(error, "all_errors", None) or [error.to_graphql()]
        telemetry.record_error(error.code)
        return ExecutionOutcome(json.dumps({"errors": errors}).encode(), error.status, error_codes=[error.code])


async def _authenticate(request: Request, state: Any) -> RequestContext:
    """The request context: anonymous, or the user behind a valid Bearer token."""
    provider = state.auth
    header = request.headers.get("authorization")
    if provider is None or not header:
        return RequestContext()
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        from fraiseql.auth import AuthError

        raise AuthError("Authorization header must be 'Bearer <token>'", "MALFORMED_TOKEN")
    with telemetry.span("auth.validate"):
        user = await provider.validate(token.strip())
    return RequestContext(
        user_id=getattr(user, "user_id", None),
        tenant_id=getattr(user, "tenant_id", None),
        user=user,
    )


def _wants_graphiql(request: Request) -> bool:
    return "query" not in request.query_params and "text/html" in request.headers.get("accept", "")


async def health(request: Request) -> Response:
    """Liveness: the process answers. Never touches the database."""
    return JSONResponse({"status": "ok"})


async def ready(request: Request) -> Response:
    """Readiness: not draining, the circuit not open, and ``SELECT 1`` within two seconds.

    The body says which: ``{"status": "ready" | "draining" | "unavailable",
    "breaker": {...}}`` (the breaker's state and counters, when there is one).
    """
    state = request.app.state.fraiseql
    breaker = state.db.breaker if state.db is not None else None
    extra = {"breaker": breaker.snapshot()} if breaker is not None else {}
    drain = getattr(state, "drain", None)
    if drain is not None and drain.draining:
        return _not_ready(state, "draining", "SHUTTING_DOWN", "the server is shutting down", extra)
    if breaker is not None and breaker.state.value == "open":
        return _not_ready(state, "unavailable", "DATABASE_UNAVAILABLE", "circuit open", extra)
    if state.db is not None and await state.db.ping(timeout_s=2.0):
        return JSONResponse({"status": "ready", **extra})
    return _not_ready(state, "unavailable", "DATABASE_UNAVAILABLE", "database unreachable", extra)


def _not_ready(state: Any, status: str, code: str, message: str, extra: dict[str, Any]) -> Response:
    return JSONResponse(
        {"status": status, "errors": [{"message": message, "extensions": {"code": code}}], **extra},
        status_code=503,
        headers={"Retry-After": str(state.config.retry_after_s)},
    )


ROUTES = [
    Route("/graphql", graphql_endpoint, methods=["GET", "POST"]),
    Route("/health", health, methods=["GET"]),
    Route("/ready", ready, methods=["GET"]),
]
