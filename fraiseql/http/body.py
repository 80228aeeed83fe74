"""Reading a request body against the clock and a byte limit, before any work starts.

A client that sends its body slowly (a slow network, or a slowloris attack) would
otherwise hold a request slot, a task and its buffers for as long as it likes. The body
is read here in full, within ``timeout_s`` (408 ``REQUEST_BODY_TIMEOUT``) and
``limit_bytes`` (413 ``PAYLOAD_TOO_LARGE``), then replayed to the application, which
reads it from memory. Only then does the request count as in flight.

Example::

    body = await read_body(receive, headers, limit_bytes=1_000_000, timeout_s=10)
    await app(scope, replay(body, receive), send)
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fraiseql.deadlines import Interrupt
from fraiseql.errors import GraphQLRequestError

Receive = Callable[[], Awaitable[dict[str, Any]]]

# The scope key under which a body read here is handed to the endpoint as well.
BODY_KEY = "fraiseql.body"


class ClientDisconnected(Exception):
    """The client went away before its body was complete: nothing to answer."""


async def read_body(
    receive: Receive, headers: Mapping[str, str], *, limit_bytes: int, timeout_s: float
) -> bytes:
    """The whole body, or ``GraphQLRequestError`` (408, 413), or ``ClientDisconnected``."""
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit_bytes:
        raise _too_large(limit_bytes)
    if timeout_s <= 0:
        return await _read(receive, limit_bytes)
    interrupt = Interrupt(timeout_s)
    try:
        return await _read(receive, limit_bytes)
    except asyncio.CancelledError:
        if not interrupt.caused():
            raise
        raise GraphQLRequestError(
            f"The request body did not arrive within {timeout_s:g}s",
            "REQUEST_BODY_TIMEOUT",
            status=408,
        ) from None
    finally:
        interrupt.close()


async def _read(receive: Receive, limit_bytes: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit_bytes:
            raise _too_large(limit_bytes)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that yields ``body`` once, then defers to the real one (disconnects)."""
    delivered = False

    async def replayed() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def _too_large(limit_bytes: int) -> GraphQLRequestError:
    return GraphQLRequestError(
        f"Request body exceeds the limit of {limit_bytes} bytes", "PAYLOAD_TOO_LARGE", status=413
    )
