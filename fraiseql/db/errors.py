"""The one place where psycopg's exceptions become FraiseQL's.

Clients see a code and a short, stable message; PostgreSQL's own text (which can quote
SQL or data) is kept on the exception for logs, never sent out.
"""

from __future__ import annotations

import psycopg
import psycopg_pool

from fraiseql.errors import (
    CircuitOpenError,
    DatabaseError,
    DatabaseTimeout,
    DatabaseUnavailable,
    TransientDatabaseError,
)

# SQLSTATEs that mean "the server is not there for us right now".
_UNAVAILABLE_STATES = {
    "08000", "08001", "08003", "08004", "08006", "08007",  # connection exceptions
    "53300",  # too_many_connections
    "57P01", "57P02", "57P03",  # admin_shutdown, crash_shutdown, cannot_connect_now
}
_TRANSIENT_STATES = {"40001": "SERIALIZATION_FAILURE", "40P01": "DEADLOCK_DETECTED"}

# What PostgreSQL answers a new session when it is up but has no slot for it (53300:
# max_connections, the reserved slots, a role's or a database's connection limit). libpq
# reports a failed connection as text only, without the SQLSTATE, so the text is matched.
_SERVER_FULL_TEXTS = ("too many clients", "connection slots are reserved", "too many connections")


def translate(exc: BaseException) -> DatabaseError:
    """Map a psycopg / psycopg_pool exception to FraiseQL's tree (never raises)."""
    if isinstance(exc, DatabaseError):
        return exc
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(exc, psycopg_pool.PoolTimeout):
        error: DatabaseError = DatabaseUnavailable("No database connection available in time")
    elif isinstance(exc, psycopg_pool.PoolClosed):
        error = DatabaseUnavailable("The database pool is closed")
    elif sqlstate in _TRANSIENT_STATES:
        error = TransientDatabaseError(
            "The database aborted the transaction; it is safe to retry",
            _TRANSIENT_STATES[sqlstate],
        )
    elif sqlstate == "57014":
        error = DatabaseTimeout("The database statement timed out")
    elif sqlstate in _UNAVAILABLE_STATES or (
        sqlstate is None and isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError, OSError))
    ):
        error = DatabaseUnavailable("The database is unavailable")
    else:
        error = DatabaseError("The database reported an error")
    error.sqlstate = sqlstate  # type: ignore[attr-defined]
    error.detail = str(exc)  # type: ignore[attr-defined]
    if sqlstate:
        error.extensions["sqlstate"] = sqlstate
    error.__cause__ = exc
    return error


def refused_for_capacity(exc: BaseException) -> bool:
    """True when a failed connection attempt met a server that is up but full (53300).

    The pool's connections already open still work then, so it is not an outage. Known
    limit: a server whose ``lc_messages`` is not English is not recognised as full.
    """
    if getattr(exc, "sqlstate", None) == "53300":
        return True
    text = str(exc).lower()
    return any(marker in text for marker in _SERVER_FULL_TEXTS)


def is_connection_lost(exc: BaseException) -> bool:
    """True when the failure leaves a write's outcome unknown (connection gone mid-way)."""
    cause = exc.__cause__ if isinstance(exc, DatabaseError) and exc.__cause__ else exc
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate in _UNAVAILABLE_STATES:
        return True
    return sqlstate is None and isinstance(cause, (psycopg.OperationalError, psycopg.InterfaceError, OSError))


def retryable_read_reason(exc: BaseException) -> str | None:
    """Why a failed *read* may be run again ("transient", "connection"), or None.

    Safe for reads only: a read repeated changes nothing. Retried: 40001 and 40P01, and
    connections lost, refused, shut down by an administrator or refused for too many
    clients. Not retried: pool waits that timed out or a closed pool (the wait already
    spent the time; retrying deepens an overload), an open circuit, statement timeouts
    (the same query would time out again, at twice the cost), anything else.
    """
    if isinstance(exc, TransientDatabaseError):
        return "transient"
    if not isinstance(exc, DatabaseUnavailable) or isinstance(exc, CircuitOpenError):
        return None
    if isinstance(exc.__cause__, (psycopg_pool.PoolTimeout, psycopg_pool.PoolClosed, psycopg_pool.TooManyRequests)):
        return None
    return "connection" if is_connection_lost(exc) else None
