"""Token providers: ``JWTProvider`` for any OIDC issuer, ``Auth0Provider`` for Auth0.

A provider owns a Rust ``JwtVerifier`` (key set + user-context cache) and a
``JWKSFetcher``. ``validate`` is one Rust call on the hot path; Python only runs again
when Rust reports an unknown ``kid`` (refresh, then retry once).

Example::

    provider = JWTProvider(
        issuer="https://id.example.com/",
        audience="https://api.example.com",
        jwks_url="https://id.example.com/.well-known/jwks.json",
        algorithms=("RS256", "ES256"),
    )
    await provider.start()
    user = await provider.validate(token)   # UserContext, or raises AuthError
    await provider.close()
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from fraiseql._fraiseql_rs import JwtError, JwtVerifier
from fraiseql.auth.errors import AuthError
from fraiseql.auth.jwks_fetcher import JWKSFetcher
from fraiseql.auth.user_context import UserContext, UserContextFactory


class JWTProvider:
    """Validates bearer JWTs from one issuer. See the module docstring for an example.

    ``audience`` may be a string or several accepted audiences. HS* algorithms need
    ``hmac_secret`` (at least 32 bytes) and never use the JWKS; ``jwks_url`` may then be
    None. ``leeway`` is in seconds.
    """

    def __init__(
        self,
        issuer: str,
        audience: str | Sequence[str],
        jwks_url: str | None,
        algorithms: Sequence[str] = ("RS256",),
        roles_claim: str = "roles",
        permissions_claim: str = "permissions",
        leeway: float = 30,
        ca_file: str | None = None,
        allow_insecure_http: bool = False,
        *,
        user_id_claim: str = "sub",
        tenant_claim: str | None = "tenant_id",
        hmac_secret: bytes | None = None,
        max_token_bytes: int = 8192,
        cache_max_entries: int = 10_000,
        cache_ttl_s: float = 300.0,
        jwks_ttl_s: float = 3600.0,
        jwks_min_ttl_s: float = 60.0,
        max_stale_s: float = 86_400.0,
        unknown_kid_cooldown_s: float = 30.0,
        negative_kid_ttl_s: float = 60.0,
        jwks_retry_delay_s: float = 5.0,
        connect_timeout_s: float = 3.0,
        read_timeout_s: float = 5.0,
        http_client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        audiences = [audience] if isinstance(audience, str) else list(audience)
        self.issuer = issuer
        self.verifier = JwtVerifier(
            issuer,
            audiences,
            list(algorithms),
            leeway_s=float(leeway),
            max_token_bytes=max_token_bytes,
            cache_max_entries=cache_max_entries,
            cache_ttl_s=cache_ttl_s,
            hmac_secret=hmac_secret,
            user_factory=UserContextFactory(user_id_claim, roles_claim, permissions_claim, tenant_claim),
        )
        if jwks_url is None:
            if not all(alg.startswith("HS") for alg in algorithms):
                raise ValueError("jwks_url is required unless every algorithm is HS*")
            self.fetcher: JWKSFetcher | None = None
            return
        self.fetcher = JWKSFetcher(
            jwks_url,
            install=self.verifier.set_keys,
            # Past max staleness the keys go, the users they verified stay (bounded by the
            # user-context TTL and each token's exp): an IdP outage keeps signed-in users in.
            drop=self.verifier.forget_keys,
            ca_file=ca_file,
            allow_insecure_http=allow_insecure_http,
            connect_timeout_s=connect_timeout_s,
            read_timeout_s=read_timeout_s,
            ttl_s=jwks_ttl_s,
            min_ttl_s=jwks_min_ttl_s,
            max_stale_s=max_stale_s,
            unknown_kid_cooldown_s=unknown_kid_cooldown_s,
            negative_ttl_s=negative_kid_ttl_s,
            retry_delay_s=jwks_retry_delay_s,
            client=http_client,
            clock=clock,
        )

    async def start(self) -> None:
        """Fetch the keys and start refreshing them in the background."""
        if self.fetcher is not None:
            await self.fetcher.start()

    async def close(self) -> None:
        if self.fetcher is not None:
            await self.fetcher.close()

    async def validate(self, token: str) -> UserContext:
        """The ``UserContext`` for ``token``, or ``AuthError`` with the reason's code."""
        try:
            return self.verifier.validate(token)  # type: ignore[no-any-return]
        except JwtError as exc:
            if exc.args[0] != "UNKNOWN_KEY" or self.fetcher is None:
                raise AuthError.from_rust(exc) from None
            kid = exc.args[2]
        retry = await self.fetcher.refresh_for_kid(kid)
        if not self.fetcher.has_keys:
            raise AuthError("the identity provider's signing keys are unavailable", "JWKS_UNAVAILABLE")
        if not retry:
            raise AuthError("no key in the key set matches the token's kid", "UNKNOWN_KEY")
        try:
            return self.verifier.validate(token)  # type: ignore[no-any-return]
        except JwtError as exc:
            raise AuthError.from_rust(exc) from None

    def cache_stats(self) -> dict[str, Any]:
        """User-context cache counters: size, hits, misses, evictions, expirations."""
        return self.verifier.cache_stats()  # type: ignore[no-any-return]


class Auth0Provider(JWTProvider):
    """``JWTProvider`` for an Auth0 tenant: issuer ``https://{domain}/`` and its JWKS.

    Example::

        provider = Auth0Provider("example.eu.auth0.com", audience="https://api.example.com")
    """

    def __init__(self, domain: str, audience: str | Sequence[str], **options: Any) -> None:
        if not domain or "/" in domain:
            raise ValueError(f"Auth0 domain must be a bare host name, got {domain!r}")
        options.setdefault("algorithms", ("RS256",))
        super().__init__(
            issuer=f"https://{domain}/",
            audience=audience,
            jwks_url=f"https://{domain}/.well-known/jwks.json",
            **options,
        )
