"""Building a JWT provider from environment variables (for apps, the CLI and the harness).

| variable | meaning |
|---|---|
| ``FRAISEQL_AUTH_ISSUER`` | the exact ``iss``; unset means no authentication |
| ``FRAISEQL_AUTH_AUDIENCE`` | the expected ``aud`` (required with an issuer) |
| ``FRAISEQL_AUTH_JWKS_URL`` | default: ``<issuer>/.well-known/jwks.json`` |
| ``FRAISEQL_AUTH_ALGORITHMS`` | comma-separated, default ``RS256`` |
| ``FRAISEQL_AUTH_CA_FILE`` | a CA bundle for the JWKS endpoint (local issuers) |

Example::

    app = fraiseql.create_app(auth=provider_from_environment())
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from fraiseql.auth.providers import JWTProvider


def provider_from_environment(environ: Mapping[str, str] | None = None) -> JWTProvider | None:
    """A JWTProvider configured by ``FRAISEQL_AUTH_*``, or None when no issuer is set."""
    env = os.environ if environ is None else environ
    issuer = env.get("FRAISEQL_AUTH_ISSUER", "").strip()
    if not issuer:
        return None
    audience = env.get("FRAISEQL_AUTH_AUDIENCE", "").strip()
    if not audience:
        raise ValueError("FRAISEQL_AUTH_ISSUER is set but FRAISEQL_AUTH_AUDIENCE is not")
    jwks_url = env.get("FRAISEQL_AUTH_JWKS_URL") or issuer.rstrip("/") + "/.well-known/jwks.json"
    algorithms = tuple(
        a.strip() for a in env.get("FRAISEQL_AUTH_ALGORITHMS", "RS256").split(",") if a.strip()
    )
    return JWTProvider(
        issuer, audience, jwks_url, algorithms=algorithms, ca_file=env.get("FRAISEQL_AUTH_CA_FILE") or None
    )
