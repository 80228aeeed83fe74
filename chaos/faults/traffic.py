"""Side traffic: requests the harness itself sends while a fault is in place.

Some failures are traffic: a flood of forged tokens, a burst of ten times the load, a
thousand queries at once, clients that send their body one byte at a time, many writers
on one row. The scenario's load keeps running beside it and is what the expectations
judge; the side traffic's own answers are the fault's evidence (how many were sent, what
came back). It is bounded (a request cap and the fault's window), sent to loopback only,
and stopped by ``stop()``, which every fault using it calls from ``revert``.

Example::

    traffic = SideTraffic(stack.app_url, lambda n: ({}, {"query": "{ posts { id } }"}),
                          rate_per_s=200, concurrency=50)
    traffic.start()
    ...
    stats = await traffic.stop()      # TrafficStats: sent, by_status, by_code, ...
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from chaos.load.process import require_loopback

# (headers, JSON body) of the n-th request
RequestFactory = Callable[[int], tuple[dict[str, str], dict[str, Any]]]
# optional: what to learn from the n-th answer (n, status, parsed body or None) -> a label to count
Classifier = Callable[[int, int | None, Any], str | None]

MAX_REQUESTS = 200_000  # a hard cap whatever the scenario says


@dataclass
class TrafficStats:
    """What the side traffic sent and got back."""

    sent: int = 0
    answered: int = 0
    no_response: int = 0
    by_status: collections.Counter[str] = field(default_factory=collections.Counter)
    by_code: collections.Counter[str] = field(default_factory=collections.Counter)
    labels: collections.Counter[str] = field(default_factory=collections.Counter)
    bare_5xx: int = 0  # status >= 500 without a GraphQL error body
    max_latency_ms: float = 0.0
    started_at: float | None = None  # time.monotonic() of the first request sent
    ended_at: float | None = None  # ... and of the last answer (or give-up)

    @property
    def sent_per_s(self) -> float | None:
        """The rate the traffic really reached, first request to last answer."""
        if self.started_at is None or self.ended_at is None or self.ended_at <= self.started_at:
            return None
        return self.sent / (self.ended_at - self.started_at)

    def record(self, status: int | None, body: Any, latency_ms: float, label: str | None) -> None:
        self.max_latency_ms = max(self.max_latency_ms, latency_ms)
        self.ended_at = time.monotonic()
        if status is None:
            self.no_response += 1
            self.by_status["none"] += 1
            return
        self.answered += 1
        self.by_status[str(status)] += 1
        codes = graphql_codes(body)
        for code in codes:
            self.by_code[code] += 1
        if status >= 500 and not codes:
            self.bare_5xx += 1
        if label:
            self.labels[label] += 1

    def as_dict(self) -> dict[str, Any]:
        return {"sent": self.sent, "answered": self.answered, "no_response": self.no_response,
                "by_status": dict(self.by_status), "by_code": dict(self.by_code),
                "labels": dict(self.labels), "bare_5xx": self.bare_5xx,
                "max_latency_ms": round(self.max_latency_ms, 1),
                "sent_per_s": None if self.sent_per_s is None else round(self.sent_per_s, 1)}


def graphql_codes(body: Any) -> list[str]:
    """``extensions.code`` of every entry of a GraphQL answer's ``errors``."""
    if not isinstance(body, dict):
        return []
    errors = body.get("errors") or []
    return [str((e.get("extensions") or {}).get("code", "NO_CODE")) for e in errors
            if isinstance(e, dict)]


class SideTraffic:
    """POSTs to ``<app_url>/graphql`` at ``rate_per_s`` (None: as fast as ``concurrency``
    allows), at most ``concurrency`` in flight, at most ``max_requests`` in all.

    ``waves``: send ``concurrency`` requests at once, wait for every answer, repeat (a
    thousand concurrent queries, not a steady stream).
    """

    def __init__(self, app_url: str, request: RequestFactory, *, rate_per_s: float | None = None,
                 concurrency: int = 10, max_requests: int = 10_000, timeout_s: float = 10.0,
                 waves: bool = False, classify: Classifier | None = None) -> None:
        require_loopback(app_url)
        self.url = app_url.rstrip("/") + "/graphql"
        self.request = request
        self.rate_per_s = rate_per_s
        self.concurrency = max(1, concurrency)
        self.max_requests = min(max_requests, MAX_REQUESTS)
        self.timeout_s = timeout_s
        self.waves = waves
        self.classify = classify
        self.stats = TrafficStats()
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def start(self) -> None:
        """Start sending from the running event loop (returns at once)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> TrafficStats:
        """Stop sending, let requests in flight end (bounded by their timeout), return the stats."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is not None:
            try:
                await asyncio.wait_for(task, self.timeout_s + 5)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        return self.stats

    async def finished(self) -> TrafficStats:
        """Wait until every request was sent and answered (``max_requests`` reached)."""
        task, self._task = self._task, None
        if task is not None:
            await task
        return self.stats

    async def _run(self) -> None:
        # aiohttp, not httpx: at a hundred connections httpx's pool cost 7.4 ms of CPU per
        # request, so a burst of 200 a second reached 55 and slowed the machine it measured.
        connector = aiohttp.TCPConnector(limit=self.concurrency)
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as client:
            if self.waves:
                await self._waves(client)
            else:
                await self._stream(client)

    async def _stream(self, client: aiohttp.ClientSession) -> None:
        slots = asyncio.Semaphore(self.concurrency)
        pending: set[asyncio.Task[None]] = set()
        interval = 1.0 / self.rate_per_s if self.rate_per_s else 0.0
        next_at = time.monotonic()
        try:
            while not self._stopping.is_set() and self.stats.sent < self.max_requests:
                await slots.acquire()
                if self._stopping.is_set():
                    slots.release()
                    break
                n = self.stats.sent
                self.stats.sent += 1
                task = asyncio.create_task(self._one(client, n))
                pending.add(task)
                task.add_done_callback(lambda t: (pending.discard(t), slots.release()))
                if interval:
                    next_at += interval
                    delay = next_at - time.monotonic()
                    if delay > 0:
                        with contextlib.suppress(asyncio.TimeoutError):
                            await asyncio.wait_for(self._stopping.wait(), delay)
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        finally:
            # Cancelled (stop() gave up waiting): the requests still running are tasks of
            # their own, not children; end them before the client closes, or their
            # connections outlive it and are left to the garbage collector.
            for task in list(pending):
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)

    async def _waves(self, client: aiohttp.ClientSession) -> None:
        while not self._stopping.is_set() and self.stats.sent < self.max_requests:
            size = min(self.concurrency, self.max_requests - self.stats.sent)
            first = self.stats.sent
            self.stats.sent += size
            await asyncio.gather(*(self._one(client, first + i) for i in range(size)),
                                 return_exceptions=True)

    async def _one(self, client: aiohttp.ClientSession, n: int) -> None:
        headers, body = self.request(n)
        if self.stats.started_at is None:
            self.stats.started_at = time.monotonic()
        started = time.perf_counter()
        status: int | None = None
        parsed: Any = None
        try:
            async with client.post(self.url, json=body, headers=headers) as response:
                status = response.status
                raw = await response.read()
            with contextlib.suppress(ValueError):
                parsed = json.loads(raw)
        except (aiohttp.ClientError, asyncio.TimeoutError):
            status = None
        label = self.classify(n, status, parsed) if self.classify else None
        self.stats.record(status, parsed, (time.perf_counter() - started) * 1000, label)


async def slow_body_client(app_url: str, body: bytes, byte_interval_s: float,
                           stopping: asyncio.Event) -> str:
    """One client that sends a POST's headers, then its body one byte per
    ``byte_interval_s`` until done or ``stopping``; returns what happened
    (``answered <status>``, ``closed by server``, ``stopped``)."""
    require_loopback(app_url)
    parts = urlsplit(app_url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        head = (f"POST /graphql HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
        writer.write(head.encode())
        await writer.drain()
        for i in range(len(body)):
            if stopping.is_set():
                return "stopped"
            if reader.at_eof():
                return "closed by server"
            writer.write(body[i:i + 1])
            try:
                await writer.drain()
            except ConnectionError:
                return "closed by server"
            with contextlib.suppress(asyncio.TimeoutError):
                line = await asyncio.wait_for(reader.readline(), byte_interval_s)
                if line.startswith(b"HTTP/"):
                    return f"answered {line.split()[1].decode()}"
                if not line:
                    return "closed by server"
        line = await asyncio.wait_for(reader.readline(), 10)
        return f"answered {line.split()[1].decode()}" if line.startswith(b"HTTP/") else "closed by server"
    except (ConnectionError, asyncio.TimeoutError, IndexError):
        return "closed by server"
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


def graphql_body(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"query": query, "variables": variables or {}}


def encoded(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()
