"""Toxiproxy: the real server (a component) and our client over toxiproxy-python.

``ToxiproxyServer`` runs the ``toxiproxy-server`` binary (installed by ``.ci/setup`` as
``~/go/bin/server``) on a free loopback port, with ``-proxy-metrics`` so that its
Prometheus endpoint counts the bytes every proxy carried; ``TOXIPROXY_URL`` selects a
server that is already running instead. ``Toxiproxy`` is the client the faults use.

Why the client is wrapped the way it is:

- toxiproxy-python keeps the server's address in class attributes (``APIConsumer.host``
  and ``.port``), so two servers in one process (two stacks side by side) would talk to
  whichever was set last. Every library call here holds one process-wide lock while it
  points the library at this client's server.
- The library is synchronous (requests): calls run in a worker thread.
- It has no call for ``/metrics``, the only place Toxiproxy 2.12 reports traffic (its
  API has no per-proxy byte counters), so ``traffic`` reads it with httpx.

Every failure of the API (refused connection, 4xx) becomes ``ToxiproxyError`` in
``_library``, the one place errors are translated.

Example::

    client = Toxiproxy("http://127.0.0.1:8474")
    await client.create_proxy("postgres", listen="127.0.0.1:15432", upstream="127.0.0.1:5432")
    name = await client.add_toxic("postgres", "latency", attributes={"latency": 200})
    (await client.traffic("postgres")).total_bytes
    await client.remove_toxic("postgres", name)
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import requests
import toxiproxy
from toxiproxy.api import APIConsumer
from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists

from chaos.errors import StackError, ToxiproxyError
from chaos.stack.base import LOOPBACK, free_port, tail, wait_until

T = TypeVar("T")

# toxiproxy-python addresses its server through class attributes: one caller at a time.
_LIBRARY_LOCK = threading.Lock()
_LIBRARY_ERRORS = (requests.RequestException, InvalidToxic, NotFound, ProxyExists)

_METRIC_LINE = re.compile(r'^toxiproxy_proxy_(received|sent)_bytes_total\{(?P<labels>[^}]*)\}\s+(?P<value>\S+)$')
_LABEL = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class ToxicState:
    """A toxic as Toxiproxy reports it."""

    name: str
    type: str
    stream: str
    toxicity: float
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProxyState:
    """A proxy as Toxiproxy reports it, with its toxics."""

    name: str
    listen: str
    upstream: str
    enabled: bool
    toxics: tuple[ToxicState, ...] = ()


@dataclass(frozen=True)
class Traffic:
    """Bytes a proxy received so far, per direction (upstream = client -> server)."""

    upstream_bytes: int
    downstream_bytes: int

    @property
    def total_bytes(self) -> int:
        return self.upstream_bytes + self.downstream_bytes


class Toxiproxy:
    """Async client of one Toxiproxy server (see the module docstring for why it is shaped so)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        parts = urlsplit(self.url)
        if not parts.hostname or not parts.port:
            raise ToxiproxyError(f"TOXIPROXY_URL must be http://host:port, got {url!r}")
        self._host, self._port = parts.hostname, parts.port

    async def version(self) -> str:
        response = await self._library("read the version", lambda server: APIConsumer.get("/version"))
        return response.text

    async def proxies(self) -> dict[str, ProxyState]:
        def read(server: toxiproxy.Toxiproxy) -> dict[str, ProxyState]:
            return {name: _proxy_state(proxy) for name, proxy in server.proxies().items()}

        return await self._library("list the proxies", read)

    async def proxy(self, name: str) -> ProxyState:
        found = (await self.proxies()).get(name)
        if found is None:
            raise ToxiproxyError(f"Toxiproxy at {self.url} has no proxy named {name!r}")
        return found

    async def create_proxy(self, name: str, *, listen: str, upstream: str) -> ProxyState:
        """Create ``name`` (replacing a proxy of that name left by an earlier run)."""

        def create(server: toxiproxy.Toxiproxy) -> ProxyState:
            existing = server.get_proxy(name)
            if existing is not None:
                existing.destroy()
            return _proxy_state(server.create(upstream=upstream, name=name, listen=listen, enabled=True))

        return await self._library(f"create proxy {name!r}", create)

    async def add_toxic(
        self,
        proxy: str,
        type: str,
        *,
        stream: str = "downstream",
        toxicity: float = 1.0,
        attributes: dict[str, Any] | None = None,
        name: str | None = None,
    ) -> str:
        """Add a toxic to ``proxy``; returns its name (default ``<type>_<stream>``)."""
        toxic_name = name or f"{type}_{stream}"

        def add(server: toxiproxy.Toxiproxy) -> None:
            self._library_proxy(server, proxy).add_toxic(
                type=type, stream=stream, toxicity=toxicity, attributes=attributes or {}, name=toxic_name
            )

        await self._library(f"add a {type} toxic to {proxy!r}", add)
        return toxic_name

    async def remove_toxic(self, proxy: str, name: str) -> bool:
        """Remove a toxic; False when it was not there (reverting twice is fine)."""

        def remove(server: toxiproxy.Toxiproxy) -> bool:
            target = server.get_proxy(proxy)
            if target is None or target.get_toxic(name) is None:
                return False
            return target.destroy_toxic(name)

        return await self._library(f"remove toxic {name!r} from {proxy!r}", remove)

    async def set_enabled(self, proxy: str, enabled: bool) -> None:
        """Disable (drops every connection, stops listening) or enable a proxy."""

        def switch(server: toxiproxy.Toxiproxy) -> None:
            target = self._library_proxy(server, proxy)
            target.enable() if enabled else target.disable()

        await self._library(f"{'enable' if enabled else 'disable'} proxy {proxy!r}", switch)

    async def reset(self) -> None:
        """Re-enable every proxy and remove every toxic."""
        await self._library("reset", lambda server: server.reset())

    async def traffic(self, proxy: str) -> Traffic:
        """Bytes ``proxy`` received so far, from the server's Prometheus ``/metrics``."""
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                response = await client.get(f"{self.url}/metrics")
                response.raise_for_status()
        except httpx.HTTPError as exc:
            raise ToxiproxyError(f"Toxiproxy at {self.url}: reading /metrics failed: {exc!r}") from exc
        counts = {"upstream": 0, "downstream": 0}
        for line in response.text.splitlines():
            match = _METRIC_LINE.match(line)
            if match is None or match.group(1) != "received":
                continue
            labels = dict(_LABEL.findall(match["labels"]))
            if labels.get("proxy") == proxy and labels.get("direction") in counts:
                counts[labels["direction"]] += int(float(match["value"]))
        return Traffic(upstream_bytes=counts["upstream"], downstream_bytes=counts["downstream"])

    # -- the one place library errors are translated -------------------------------------
    async def _library(self, what: str, call: Callable[[toxiproxy.Toxiproxy], T]) -> T:
        def run() -> T:
            with _LIBRARY_LOCK:
                APIConsumer.host, APIConsumer.port = self._host, self._port
                return call(toxiproxy.Toxiproxy())

        try:
            return await asyncio.to_thread(run)
        except _LIBRARY_ERRORS as exc:
            detail = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else exc
            raise ToxiproxyError(f"Toxiproxy at {self.url}: could not {what}: {detail}") from exc

    def _library_proxy(self, server: toxiproxy.Toxiproxy, name: str) -> toxiproxy.Proxy:
        found = server.get_proxy(name)
        if found is None:
            raise ToxiproxyError(f"Toxiproxy at {self.url} has no proxy named {name!r}")
        return found


def _proxy_state(proxy: toxiproxy.Proxy) -> ProxyState:
    toxics = tuple(
        ToxicState(t.name, t.type, t.stream, float(t.toxicity), dict(t.attributes))
        for t in proxy.toxics().values()
    )
    return ProxyState(proxy.name, proxy.listen, proxy.upstream, bool(proxy.enabled), toxics)


def find_server_binary() -> str | None:
    """``toxiproxy-server`` or ``server`` from ``~/go/bin``, then from PATH."""
    go_bin = Path.home() / "go" / "bin"
    for name in ("toxiproxy-server", "server"):
        if (go_bin / name).is_file():
            return str(go_bin / name)
    return shutil.which("toxiproxy-server") or shutil.which("server")


class ToxiproxyServer:
    """The real Toxiproxy server on a free loopback port, or the one at ``url``."""

    name = "toxiproxy"

    def __init__(self, *, url: str | None = None, binary: str | None = None, log_dir: Path | None = None) -> None:
        self._external_url = url if url is not None else os.environ.get("TOXIPROXY_URL") or None
        self._binary = binary
        self._log_dir = log_dir
        self._log_path: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self.url = self._external_url or ""

    @property
    def client(self) -> Toxiproxy:
        return Toxiproxy(self.url)

    async def start(self) -> None:
        if self._external_url:
            await wait_until(self.healthy, 10, f"Toxiproxy at {self._external_url} (TOXIPROXY_URL)")
            return
        binary = self._binary or find_server_binary()
        if binary is None:
            raise StackError(
                "the Toxiproxy server was not found (looked for toxiproxy-server and server in "
                "~/go/bin and PATH): run .ci/setup, or set TOXIPROXY_URL to a running server"
            )
        port = free_port()
        self.url = f"http://{LOOPBACK}:{port}"
        log_dir = self._log_dir or Path(tempfile.mkdtemp(prefix="fraiseql-toxiproxy-"))
        self._log_path = log_dir / "toxiproxy.log"
        with open(self._log_path, "ab") as log:
            self._process = subprocess.Popen(
                [binary, "-host", LOOPBACK, "-port", str(port), "-proxy-metrics"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        try:
            await wait_until(self._answers_or_died, 15, f"Toxiproxy to listen on {self.url}")
        except StackError as exc:
            await self.stop()
            raise StackError(f"{exc}\n{tail(self._log_path)}") from exc

    async def _answers_or_died(self) -> bool:
        if self._process is not None and self._process.poll() is not None:
            raise StackError(f"toxiproxy-server exited with status {self._process.returncode}")
        return await self.healthy()

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            await asyncio.to_thread(process.wait, 5)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait, 5)

    async def healthy(self) -> bool:
        try:
            async with httpx.AsyncClient(timeout=2) as client:
                return (await client.get(f"{self.url}/version")).status_code == 200
        except httpx.HTTPError:
            return False

    def logs(self) -> str:
        if self._external_url:
            return f"(external Toxiproxy at {self._external_url}: its logs are not captured here)"
        return tail(self._log_path)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None
