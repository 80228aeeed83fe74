"""FraiseQL errors as HTTP responses: one shape for every place that ends a request.

The body is a GraphQL response, ``{"errors": [{"message", "extensions": {"code"}}]}``,
with ``"data": null`` when the server failed (5xx); 401/403 carry ``WWW-Authenticate``
and 503 carries ``Retry-After`` (the error's own estimate, e.g. an open circuit's time
left, else ``retry_after_s``).

Example::

    return error_response(OverloadedError("Too many requests in flight"), APPLICATION_JSON, 1)
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from fraiseql import telemetry
from fraiseql.errors import FraiseQLError


def error_response(error: FraiseQLError, media_type: str, retry_after_s: int) -> Response:
    """The response for a request that ``error`` ended."""
    telemetry.record_error(error.code)
    errors = getattr(error, "all_errors", None) or [error.to_graphql()]
    payload: dict[str, Any] = {"errors": errors}
    if error.status >= 500:
        payload["data"] = None
    response = JSONResponse(payload, status_code=error.status, media_type=media_type)
    challenge = getattr(error, "www_authenticate", None)
    if challenge and error.status in (401, 403):
        response.headers["WWW-Authenticate"] = challenge
    elif error.status == 503:
        response.headers["Retry-After"] = str(getattr(error, "retry_after_s", None) or retry_after_s)
    return response
