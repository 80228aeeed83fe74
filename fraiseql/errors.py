"""FraiseQL's exception tree.

Every error a client can see carries a GraphQL error code (``extensions.code``) and an
HTTP status used when the error ends the whole request::

    FraiseQLError                      code, status, message
    ├── GraphQLRequestError            400: the request itself is wrong
    │     codes: BAD_REQUEST, GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED,
    │            QUERY_TOO_DEEP, QUERY_TOO_COMPLEX, TOO_MANY_ALIASES, BATCH_TOO_LARGE,
    │            PAYLOAD_TOO_LARGE (413), UNSUPPORTED_MEDIA_TYPE (415),
    │            METHOD_NOT_ALLOWED (405), INVALID_INPUT, REQUEST_BODY_TIMEOUT (408)
    ├── DatabaseError                  the database failed us
    │     ├── DatabaseUnavailable      503 DATABASE_UNAVAILABLE (connect, pool wait, lost)
    │     │     └── CircuitOpenError   503 DATABASE_UNAVAILABLE, extensions.circuit "open"
    │     ├── DatabaseTimeout          503 DATABASE_TIMEOUT (statement_timeout, 57014)
    │     ├── TransientDatabaseError   409 SERIALIZATION_FAILURE / DEADLOCK_DETECTED
    │     └── (itself)                 500 DATABASE_ERROR
    ├── CacheError                     CACHE_UNAVAILABLE (never reaches a client)
    ├── PipelineError                  500 INVALID_DB_JSON and other response-building errors
    ├── MutationError                  MUTATION_OUTCOME_UNKNOWN, IDEMPOTENCY_KEY_REUSED
    ├── OverloadedError                503 OVERLOADED (too many in flight), SHUTTING_DOWN
    ├── RequestTimeoutError            504 REQUEST_TIMEOUT (request_timeout_s ran out)
    └── AuthError                      401/403, see fraiseql.auth (defined there)

Third-party exceptions (psycopg, httpx) are translated into this tree at one boundary
each: ``fraiseql.db.errors.translate`` for psycopg.

Example::

    try:
        await db.fetch_texts(query)
    except DatabaseUnavailable as exc:
        print(exc.code)  # "DATABASE_UNAVAILABLE"
"""

from __future__ import annotations

import math
from typing import Any


class FraiseQLError(Exception):
    """Root of FraiseQL's errors: a message for humans, a code for programs."""

    default_code = "INTERNAL_SERVER_ERROR"
    default_status = 500

    def __init__(
        self,
        message: str,
        code: str | None = None,
        *,
        status: int | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.status = status or self.default_status
        self.extensions = extensions or {}

    def to_graphql(self, path: list[str | int] | None = None) -> dict[str, Any]:
        """The error as one entry of a GraphQL response's ``errors`` array."""
        error: dict[str, Any] = {"message": self.message}
        if path is not None:
            error["path"] = path
        error["extensions"] = {"code": self.code, **self.extensions}
        return error

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, code={self.code!r})"


class GraphQLRequestError(FraiseQLError):
    """The request cannot be executed as sent (bad JSON, bad GraphQL, over a limit)."""

    default_code = "BAD_REQUEST"
    default_status = 400


class DatabaseError(FraiseQLError):
    """PostgreSQL reported an error we do not classify further."""

    default_code = "DATABASE_ERROR"
    default_status = 500


class DatabaseUnavailable(DatabaseError):
    """No connection could be had or kept: refused, pool wait timed out, connection lost."""

    default_code = "DATABASE_UNAVAILABLE"
    default_status = 503


class DatabaseTimeout(DatabaseError):
    """A statement ran past its statement_timeout (SQLSTATE 57014)."""

    default_code = "DATABASE_TIMEOUT"
    default_status = 503


class CircuitOpenError(DatabaseUnavailable):
    """The breaker is open: the database failed repeatedly, so we do not try it now.

    Clients see ``DATABASE_UNAVAILABLE`` (what it means for them) with
    ``extensions.circuit = "open"`` (why it was so fast) and ``retryAfterS``.
    """

    def __init__(self, retry_after_s: float) -> None:
        self.retry_after_s = max(1, math.ceil(retry_after_s))
        super().__init__(
            "The database is unavailable (circuit open after repeated failures)",
            extensions={"circuit": "open", "retryAfterS": self.retry_after_s},
        )


class TransientDatabaseError(DatabaseError):
    """Serialization failure (40001) or deadlock (40P01): safe to retry when idempotent."""

    default_code = "SERIALIZATION_FAILURE"
    default_status = 409


class CacheError(FraiseQLError):
    """The result cache failed; callers skip the cache and count it, never fail on it."""

    default_code = "CACHE_UNAVAILABLE"
    default_status = 500


class PipelineError(FraiseQLError):
    """The response could not be built from the rows the database returned."""

    default_code = "INVALID_DB_JSON"
    default_status = 500


class MutationError(FraiseQLError):
    """A mutation's outcome could not be established or its input is inconsistent."""

    default_code = "MUTATION_OUTCOME_UNKNOWN"
    default_status = 500


class OverloadedError(FraiseQLError):
    """The server sheds load: too many requests in flight, or it is shutting down."""

    default_code = "OVERLOADED"
    default_status = 503


class RequestTimeoutError(FraiseQLError):
    """The request ran past ``request_timeout_s``; its work is cancelled in the background."""

    default_code = "REQUEST_TIMEOUT"
    default_status = 504


__all__ = [
    "CacheError",
    "CircuitOpenError",
    "DatabaseError",
    "DatabaseTimeout",
    "DatabaseUnavailable",
    "FraiseQLError",
    "GraphQLRequestError",
    "MutationError",
    "OverloadedError",
    "PipelineError",
    "RequestTimeoutError",
    "TransientDatabaseError",
]
