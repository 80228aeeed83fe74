"""The JWKS fetcher: gets an issuer's keys over HTTPS and keeps them fresh.

- HTTPS only (plain http only for a loopback host with ``allow_insecure_http``); a custom
  CA file; connect and read timeouts; redirects are never followed; bodies are capped.
- Single flight: one fetch at a time, concurrent callers wait for it.
- Background refresh before the keys expire (``ttl_s``, or the server's Cache-Control
  ``max-age`` clamped to ``[min_ttl_s, ttl_s]``).
- Stale-if-error: a failed fetch keeps the last good keys, until ``max_stale_s`` after the
  last success, when they are dropped (new tokens then fail with JWKS_UNAVAILABLE; the
  provider keeps the users it already verified, within the user-context cache's TTL).
- An unknown ``kid`` refetches at most once per ``unknown_kid_cooldown_s``, and a kid still
  missing after a fetch is remembered for ``negative_ttl_s``, so a flood of random kids
  cannot become a flood of fetches.
- Every fetch goes through the ``jwks.fetch`` fault point. A hook may raise (the fetch
  fails), sleep, or return ``bytes`` that replace the response body.

Example::

    fetcher = JWKSFetcher(url, install=verifier.set_keys, drop=verifier.clear_keys)
    await fetcher.start()
    ...
    await fetcher.close()
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import ssl
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from fraiseql import faults

logger = logging.getLogger(__name__)

_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d+)", re.IGNORECASE)


class JWKSFetchError(Exception):
    """One fetch failed; the fetcher counts it and keeps its last good keys."""


def check_jwks_url(url: str, allow_insecure_http: bool) -> None:
    """Refuse anything but https, except http to a loopback host when explicitly allowed."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and allow_insecure_http and _is_loopback(parts.hostname or ""):
        return
    raise ValueError(
        f"JWKS URL must be https (http only to a loopback host with allow_insecure_http): {url!r}"
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cache_ttl_s(cache_control: str | None, default_s: float, min_s: float) -> float:
    """The server's ``max-age`` clamped to ``[min_s, default_s]``, else ``default_s``."""
    match = _MAX_AGE.search(cache_control or "")
    if not match:
        return default_s
    return max(min_s, min(float(match.group(1)), default_s))


class JWKSFetcher:
    """Fetches one issuer's JWKS and hands the bytes to ``install`` (which parses them
    and returns ``(kids, skipped)``, or raises ``ValueError``)."""

    def __init__(
        self,
        url: str,
        *,
        install: Callable[[bytes], tuple[list[str], list[str]]],
        drop: Callable[[], None],
        ca_file: str | None = None,
        allow_insecure_http: bool = False,
        connect_timeout_s: float = 3.0,
        read_timeout_s: float = 5.0,
        ttl_s: float = 3600.0,
        min_ttl_s: float = 60.0,
        max_stale_s: float = 86_400.0,
        unknown_kid_cooldown_s: float = 30.0,
        negative_ttl_s: float = 60.0,
        retry_delay_s: float = 5.0,
        max_bytes: int = 512 * 1024,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        check_jwks_url(url, allow_insecure_http)
        self.url = url
        self._install = install
        self._drop = drop
        self._ttl_s, self._min_ttl_s, self._max_stale_s = ttl_s, min(min_ttl_s, ttl_s), max_stale_s
        self._cooldown_s, self._negative_ttl_s = unknown_kid_cooldown_s, negative_ttl_s
        self._retry_delay_s, self._max_bytes = retry_delay_s, max_bytes
        self._clock = clock
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(
            verify=ssl.create_default_context(cafile=ca_file) if ca_file else True,
            timeout=httpx.Timeout(read_timeout_s, connect=connect_timeout_s),
            follow_redirects=False,
            trust_env=False,
        )
        self._inflight: asyncio.Future[bool] | None = None
        self._task: asyncio.Task[None] | None = None
        self._last_kid_fetch_at: float | None = None
        self._missing_kids: dict[str, float] = {}
        self.kids: frozenset[str] = frozenset()
        self.fetches = 0
        self.failures = 0
        self.last_success_at: float | None = None
        self.expires_at: float | None = None
        self.last_error: str | None = None

    @property
    def has_keys(self) -> bool:
        return bool(self.kids)

    async def start(self) -> None:
        """Fetch once (a failure is logged, not raised) and start the background refresh."""
        await self.refresh()
        if self._task is None:
            self._task = asyncio.create_task(self._refresh_forever(), name=f"jwks-refresh {self.url}")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._owns_client:
            await self._client.aclose()

    async def refresh(self) -> bool:
        """Fetch now, or join the fetch already running. True when it succeeded."""
        if self._inflight is None:
            self._inflight = asyncio.ensure_future(self._fetch_once())
            self._inflight.add_done_callback(self._clear_inflight)
        # shield: a cancelled waiter must not cancel the fetch the others wait for.
        return await asyncio.shield(self._inflight)

    def _clear_inflight(self, _: asyncio.Future[bool]) -> None:
        self._inflight = None

    async def refresh_for_kid(self, kid: str | None) -> bool:
        """A token named a ``kid`` we do not have. Refetch if allowed (at most once per
        cooldown; never for a kid that a recent fetch did not contain). True when the
        key set now has that kid, so retrying the token makes sense."""
        now = self._clock()
        if kid is not None and self._missing_kids.get(kid, -1.0) > now:
            return False
        if self._inflight is None:
            if self._last_kid_fetch_at is not None and now - self._last_kid_fetch_at < self._cooldown_s:
                return False
            self._last_kid_fetch_at = now
        before = self.kids
        fetched = await self.refresh()
        if kid is None:
            return self.kids != before
        if kid not in self.kids:
            # Only a successful fetch proves the kid is missing; an outage proves nothing.
            if fetched:
                self._remember_missing(kid, self._clock())
            return False
        return True

    def _remember_missing(self, kid: str, now: float) -> None:
        if len(self._missing_kids) >= 10_000:
            self._missing_kids = {k: t for k, t in self._missing_kids.items() if t > now}
            if len(self._missing_kids) >= 10_000:
                self._missing_kids.clear()
        self._missing_kids[kid] = now + self._negative_ttl_s

    async def _fetch_once(self) -> bool:
        self.fetches += 1
        try:
            body, cache_control = await self._download()
            kids, skipped = self._install(body)
        except Exception as exc:  # any failure to get keys is an outage: keep the last good ones
            self.failures += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            logger.warning("JWKS fetch from %s failed: %s", self.url, self.last_error)
            self._enforce_max_staleness()
            return False
        now = self._clock()
        if skipped:
            logger.info("JWKS from %s: skipped %s", self.url, "; ".join(skipped))
        self.kids = frozenset(kids)
        self.last_success_at = now
        self.expires_at = now + cache_ttl_s(cache_control, self._ttl_s, self._min_ttl_s)
        self.last_error = None
        self._missing_kids = {k: t for k, t in self._missing_kids.items() if k not in self.kids}
        return True

    async def _download(self) -> tuple[bytes, str | None]:
        point = faults.point("jwks.fetch")
        if point.hooks:
            replacement: Any = await point.fire(None, url=self.url)
            if isinstance(replacement, bytes):
                return replacement, None
        async with self._client.stream("GET", self.url, headers={"Accept": "application/json"}) as response:
            if response.status_code != 200:
                raise JWKSFetchError(f"HTTP {response.status_code} (redirects are not followed)")
            declared = response.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > self._max_bytes:
                raise JWKSFetchError(f"body of {declared} bytes is over {self._max_bytes}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > self._max_bytes:
                    raise JWKSFetchError(f"body is over {self._max_bytes} bytes")
            return bytes(body), response.headers.get("cache-control")

    def _past_max_stale(self) -> bool:
        return self.last_success_at is not None and self._clock() - self.last_success_at > self._max_stale_s

    def _enforce_max_staleness(self) -> None:
        if self.kids and self._past_max_stale():
            logger.error("JWKS from %s is older than %.0f s: dropping its keys", self.url, self._max_stale_s)
            self.kids = frozenset()
            self._drop()

    def next_refresh_in_s(self) -> float:
        """Seconds until the background task should fetch again."""
        now = self._clock()
        if self.last_error is not None or self.expires_at is None:
            return self._retry_delay_s
        # Refresh at 80% of the lifetime so a slow issuer never lets the keys lapse.
        lifetime = self.expires_at - (self.last_success_at or now)
        return max(self._min_ttl_s / 10, (self.last_success_at or now) + 0.8 * lifetime - now)

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self.next_refresh_in_s())
            await self.refresh()
