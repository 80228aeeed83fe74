"""Building a JWT provider from environment variables (for apps, the CLI and the harness).

| variable | meaning |
|---|---|
| ``FRAISEQL_AUTH_ISSUER`` | the exact ``iss``; unset means no authentication |
| ``FRAISEQL_AUTH_AUDIENCE`` | the expected ``aud`` (required with an issuer) |
| ``FRAISEQL_AUTH_JWKS_URL`` | default: ``<issuer>/.well-known/jwks.json`` |
| ``FRAISEQL_AUTH_ALGORITHMS`` | comma-separated, default ``RS256`` |
| ``FRAISEQL_AUTH_CA_FILE`` | a CA bundle for the JWKS endpoint (local issuers) |
| ``FRAISEQL_AUTH_JWKS_TTL_S`` | how long fetched keys are fresh, default 3600 (> 0); the server's ``max-age`` may shorten it, never lengthen it |
| ``FRAISEQL_AUTH_JWKS_MIN_TTL_S`` | the shortest freshness a server's ``max-age`` can ask for, default 60 (> 0); a shorter ``..._JWKS_TTL_S`` wins over it |
| ``FRAISEQL_AUTH_JWKS_MAX_STALE_S`` | while the JWKS endpoint fails, how long after the last good fetch its keys are still used, default 86400 (>= 0) |
| ``FRAISEQL_AUTH_KID_COOLDOWN_S`` | an unknown ``kid`` refetches the JWKS at most once per this many seconds, default 30 (>= 0) |
| ``FRAISEQL_AUTH_LEEWAY_S`` | clock skew allowed on ``exp``, ``nbf`` and ``iat``, default 30 (0 to 300) |
| ``FRAISEQL_AUTH_USER_CACHE_TTL_S`` | how long a verified token's user is cached (never past its ``exp``), default 300; ``0`` turns the cache off (every request verifies its signature) |

A short ``FRAISEQL_AUTH_JWKS_TTL_S`` is honoured as it is (the lower bound never exceeds
the TTL); ``FRAISEQL_AUTH_JWKS_MIN_TTL_S`` matters when the *server* asks for less than
60 s (``Cache-Control: max-age=3``), which the default bound would raise to 60. A value
that is not a number, or out of range, is a ``ValueError`` naming the variable, raised
when the app is built (not on a request).

Example::

    app = fraiseql.create_app(auth=provider_from_environment())
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

from fraiseql.auth.providers import JWTProvider

# variable -> (JWTProvider keyword, minimum, maximum, whether the minimum itself is allowed)
SECONDS = {
    "FRAISEQL_AUTH_JWKS_TTL_S": ("jwks_ttl_s", 0.0, None, False),
    "FRAISEQL_AUTH_JWKS_MIN_TTL_S": ("jwks_min_ttl_s", 0.0, None, False),
    "FRAISEQL_AUTH_JWKS_MAX_STALE_S": ("max_stale_s", 0.0, None, True),
    "FRAISEQL_AUTH_KID_COOLDOWN_S": ("unknown_kid_cooldown_s", 0.0, None, True),
    "FRAISEQL_AUTH_LEEWAY_S": ("leeway", 0.0, 300.0, True),
    "FRAISEQL_AUTH_USER_CACHE_TTL_S": ("cache_ttl_s", 0.0, None, True),
}


def seconds_from(env: Mapping[str, str], name: str) -> float | None:
    """The number of seconds in ``env[name]``, None when unset or blank; ValueError when
    it is not a finite number within the variable's range."""
    raw = env.get(name, "").strip()
    if not raw:
        return None
    _, minimum, maximum, minimum_allowed = SECONDS[name]
    bounds = f"{'at least' if minimum_allowed else 'more than'} {minimum:g}"
    if maximum is not None:
        bounds = f"between {minimum:g} and {maximum:g}"
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds ({bounds}), got {raw!r}") from None
    too_low = value < minimum or (value == minimum and not minimum_allowed)
    if not math.isfinite(value) or too_low or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be a number of seconds ({bounds}), got {raw!r}")
    return value


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
    options: dict[str, Any] = {}
    for name, (keyword, *_bounds) in SECONDS.items():
        value = seconds_from(env, name)
        if value is not None:
            options[keyword] = value
    return JWTProvider(
        issuer, audience, jwks_url, algorithms=algorithms,
        ca_file=env.get("FRAISEQL_AUTH_CA_FILE") or None, **options,
    )
