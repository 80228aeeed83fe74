"""``AuthError``: why a request was not let in, as a GraphQL code and an HTTP status.

Codes and statuses::

    401  UNAUTHENTICATED (no token), TOKEN_EXPIRED, TOKEN_NOT_YET_VALID, INVALID_SIGNATURE,
         INVALID_ISSUER, INVALID_AUDIENCE, INVALID_CLAIMS, UNKNOWN_KEY, MALFORMED_TOKEN,
         UNSUPPORTED_ALGORITHM, UNSUPPORTED_CRITICAL_HEADER, TOKEN_TOO_LARGE
    403  FORBIDDEN (authenticated, but without the role or permission asked for)
    503  JWKS_UNAVAILABLE (the identity provider's keys cannot be had; retry later)

Example::

    try:
        user = await provider.validate(token)
    except AuthError as exc:
        response.headers["WWW-Authenticate"] = exc.www_authenticate
"""

from __future__ import annotations

from typing import Any

from fraiseql.errors import FraiseQLError

STATUS_BY_CODE = {
    "UNAUTHENTICATED": 401,
    "TOKEN_EXPIRED": 401,
    "TOKEN_NOT_YET_VALID": 401,
    "INVALID_SIGNATURE": 401,
    "INVALID_ISSUER": 401,
    "INVALID_AUDIENCE": 401,
    "INVALID_CLAIMS": 401,
    "UNKNOWN_KEY": 401,
    "MALFORMED_TOKEN": 401,
    "UNSUPPORTED_ALGORITHM": 401,
    "UNSUPPORTED_CRITICAL_HEADER": 401,
    "TOKEN_TOO_LARGE": 401,
    "FORBIDDEN": 403,
    "JWKS_UNAVAILABLE": 503,
}


class AuthError(FraiseQLError):
    """A token was missing or refused (401), rights were missing (403), or keys were
    unavailable (503). ``status`` defaults from the code."""

    default_code = "UNAUTHENTICATED"
    default_status = 401

    def __init__(
        self,
        message: str,
        code: str = "UNAUTHENTICATED",
        status: int | None = None,
        *,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, code, status=status or STATUS_BY_CODE.get(code, 401), extensions=extensions)

    @property
    def www_authenticate(self) -> str:
        """The ``WWW-Authenticate`` header value for this error (RFC 6750)."""
        if self.code == "UNAUTHENTICATED":
            return "Bearer"
        if self.status == 403:
            return 'Bearer error="insufficient_scope"'
        description = self.message.replace("\\", "").replace('"', "'")
        return f'Bearer error="invalid_token", error_description="{description}"'

    @classmethod
    def from_rust(cls, error: ValueError) -> AuthError:
        """Translate ``fraiseql._fraiseql_rs.JwtError(code, message, kid)``."""
        code, message, _kid = error.args
        return cls(message, code)
