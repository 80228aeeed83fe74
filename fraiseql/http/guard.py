"""``RequestGuard``: the ASGI middleware that keeps GraphQL requests within bounds.

For each request to the GraphQL path, in this order:

1. the body is read in full within ``body_read_timeout_s`` and ``max_body_bytes``
   (``fraiseql.http.body``): 408 / 413, and a slow client never counts as in flight;
2. load shedding (``fraiseql.http.shedding``): past ``max_in_flight`` the request is
   answered 503 ``OVERLOADED`` with ``Retry-After`` at once;
3. the application runs as its own task under two deadlines: ``request_timeout_s``
   (504 ``REQUEST_TIMEOUT``) and the shutdown drain (503 ``SHUTTING_DOWN``). At either,
   a request whose response has not started is answered at once and its work cancelled
   in the background (``fraiseql.deadlines``), where it still counts as in flight until
   it has stopped; a response already on its way is allowed to finish.

Other paths (``/health``, ``/ready``, ``/_chaos/...``) pass straight through: they are
never shed, and a probe must not wait behind the load it probes.

Example::

    Starlette(routes=..., middleware=[Middleware(RequestGuard, state=app_state)])
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request

from fraiseql.deadlines import ABANDONED, Deadline
from fraiseql.errors import FraiseQLError, GraphQLRequestError, OverloadedError, RequestTimeoutError
from fraiseql.http.body import BODY_KEY, ClientDisconnected, read_body, replay
from fraiseql.http.errors import error_response
from fraiseql.http.requests import APPLICATION_JSON, response_media_type

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

GRAPHQL_PATHS = frozenset({"/graphql"})


class _Reply:
    """Whether the application started its response, and whether we answered instead."""

    __slots__ = ("started", "taken_over")

    def __init__(self) -> None:
        self.started = False
        self.taken_over = False


class RequestGuard:
    """Body deadline, load shedding, request deadline and drain for the GraphQL path."""

    def __init__(self, app: ASGIApp, state: Any, paths: frozenset[str] = GRAPHQL_PATHS) -> None:
        self.app = app
        self.state = state
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        in_flight = getattr(self.state, "in_flight", None)
        if scope["type"] != "http" or scope["path"] not in self.paths or in_flight is None:
            await self.app(scope, receive, send)
            return
        config = self.state.config
        if scope["method"] == "POST":
            try:
                body = await read_body(
                    receive, Headers(scope=scope),
                    limit_bytes=config.max_body_bytes, timeout_s=config.body_read_timeout_s,
                )
            except ClientDisconnected:
                return
            except GraphQLRequestError as error:
                await self._refuse(scope, receive, send, error, close=True)
                return
            receive = replay(body, receive)
            scope[BODY_KEY] = body  # the endpoint takes it from here, not through receive again
        if not in_flight.admit():
            await self._refuse(
                scope, receive, send,
                OverloadedError("Too many requests in flight; retry shortly"),
            )
            return
        await self._run(scope, receive, send, in_flight)

    async def _run(self, scope: Scope, receive: Receive, send: Send, in_flight: Any) -> None:
        reply = _Reply()

        async def guarded_send(message: Message) -> None:
            if reply.taken_over:
                return  # the client already has our 504/503
            if message["type"] == "http.response.start":
                reply.started = True
            await send(message)

        loop = asyncio.get_running_loop()
        task = loop.create_task(self.app(scope, receive, guarded_send))
        task.add_done_callback(lambda _: in_flight.release())
        timeout_s = self.state.config.request_timeout_s
        deadline = Deadline(timeout_s if timeout_s > 0 else None, loop)
        drain = getattr(self.state, "drain", None)
        try:
            finished = await deadline.wait(task, drain.expired if drain is not None else None)
        except asyncio.CancelledError:
            ABANDONED.add(task)
            raise
        finally:
            deadline.cancel()
        if finished or reply.started:
            await task  # finished, or its response is on its way: let it finish
            return
        reply.taken_over = True
        ABANDONED.add(task)
        if deadline.passed:
            error: FraiseQLError = RequestTimeoutError(f"The request did not finish within {timeout_s:g}s")
        else:
            error = OverloadedError("The server is shutting down; retry on another instance", "SHUTTING_DOWN")
        await self._refuse(scope, receive, send, error)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, error: FraiseQLError, *, close: bool = False
    ) -> None:
        try:
            media_type = response_media_type(Request(scope))
        except GraphQLRequestError:
            media_type = APPLICATION_JSON
        response = error_response(error, media_type, self.state.config.retry_after_s)
        if close:
            response.headers["Connection"] = "close"
        await response(scope, receive, send)
