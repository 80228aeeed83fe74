"""Checking a pooled connection before it is handed out, almost for free.

After ``pg_terminate_backend``, a server restart or an idle timeout, a pooled connection
is dead, and the first request to use it fails. psycopg_pool can check every connection
with a round trip (``AsyncConnectionPool.check_connection``), which costs every request
a round trip to save a few. This check costs one ``poll`` system call instead: an idle
PostgreSQL connection has nothing to read, because the server speaks only when asked.
A readable (or hung-up) socket means the server sent something unasked, which is almost
always a FATAL error (administrator command, shutdown) followed by the end of the stream;
only then is the full check run, and it fails, and the pool replaces the connection.

A connection that is silently cut (a black-holed network) passes this check; the
client-side statement deadline (``Database(statement_grace_ms=...)``) covers that case.

Example::

    pool = AsyncConnectionPool(url, check=check_connection)
"""

from __future__ import annotations

import select
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

_UNASKED = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP | select.POLLNVAL


def has_unasked_input(fileno: int) -> bool:
    """True when the socket is readable, closed or in error without waiting."""
    poller = select.poll()
    poller.register(fileno, _UNASKED)
    return bool(poller.poll(0))


async def check_connection(conn: psycopg.AsyncConnection[Any]) -> None:
    """Raise when ``conn`` is closed, broken, or its server spoke (and the round trip fails)."""
    if conn.closed or conn.broken:
        raise psycopg.OperationalError("the connection is closed")
    try:
        unasked = has_unasked_input(conn.fileno())
    except (OSError, ValueError, psycopg.Error) as exc:
        raise psycopg.OperationalError(f"the connection socket is unusable: {exc}") from exc
    if unasked:
        await AsyncConnectionPool.check_connection(conn)
