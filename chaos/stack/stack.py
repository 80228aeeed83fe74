"""The whole stack under test, started in order and stopped in reverse.

``local`` (default, no Docker): PostgreSQL (throwaway cluster, blog database) -> Toxiproxy
(proxies ``postgres`` and ``cache`` to the cluster) -> the HTTPS issuer (proxy ``jwks``)
-> the app in its own process, whose database, cache database and JWKS traffic go
through those proxies. ``compose``: everything runs already (``docker-compose.chaos.yml``)
and the addresses come from the environment. ``containers``: as ``local``, with PostgreSQL
in a testcontainers container (needs a Docker engine).

Example::

    async with Stack(StackOptions(rows=200)) as stack:
        await stack.toxiproxy.add_toxic("postgres", "latency", attributes={"latency": 100})
        httpx.post(f"{stack.app_url}/graphql", json={"query": "{ postCount }"})
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx

from chaos.stack.app import AppProcess
from chaos.errors import StackError
from chaos.stack.base import LOOPBACK, Component, free_port, wait_until, with_address
from chaos.stack.issuer import ASYMMETRIC_ALGORITHMS, LocalIssuer
from chaos.stack.postgres import PostgresComponent
from chaos.stack.toxiproxy import Toxiproxy, ToxiproxyServer

logger = logging.getLogger(__name__)

PROXY_NAMES = ("postgres", "cache", "jwks")
Backend = Literal["local", "compose", "containers"]


@dataclass(frozen=True)
class StackOptions:
    """How to build the stack. ``app_env`` is added to (and overrides) the app's environment."""

    backend: Backend = "local"
    rows: int = 200
    auth: bool = True
    app_env: Mapping[str, str] = field(default_factory=dict)
    workers: int = 1
    jwks_max_age_s: int = 3600  # the Cache-Control max-age the issuer sends with its JWKS
    log_dir: Path | None = None
    app_start_timeout_s: float = 60.0

    def key(self) -> tuple[Any, ...]:
        """What makes two stacks interchangeable (the log folder does not)."""
        return (self.backend, self.rows, self.auth, tuple(sorted(self.app_env.items())),
                self.workers, self.jwks_max_age_s)


class IssuerComponent:
    """LocalIssuer (HTTPS JWKS, tokens) as a stack component."""

    name = "issuer"

    def __init__(self) -> None:
        self.issuer = LocalIssuer()

    async def start(self) -> None:
        await asyncio.to_thread(self.issuer.start)

    async def stop(self) -> None:
        await asyncio.to_thread(self.issuer.stop)

    async def healthy(self) -> bool:
        try:
            context = ssl.create_default_context(cafile=self.issuer.ca_file)
            async with httpx.AsyncClient(verify=context, timeout=2) as client:
                return (await client.get(self.issuer.jwks_url)).status_code == 200
        except (httpx.HTTPError, AssertionError):
            return False

    def logs(self) -> str:
        return f"(in-process issuer: {self.issuer.jwks_requests} JWKS requests served)"


class Stack:
    """The running stack; attributes are set by ``start`` (see the module docstring)."""

    def __init__(self, options: StackOptions | None = None) -> None:
        self.options = options or StackOptions()
        self.postgres: PostgresComponent | None = None
        self.toxiproxy_server: ToxiproxyServer | None = None
        self.toxiproxy: Toxiproxy | None = None  # the client the faults use
        self.issuer: LocalIssuer | None = None
        self.app: AppProcess | None = None
        self.app_url = ""
        self.admin_db_url = ""  # direct to PostgreSQL: for the harness's own sessions
        self.db_url = ""  # through proxy ``postgres``: what the app uses
        self.cache_db_url = ""  # through proxy ``cache``
        self.agent_token: str | None = None
        self._started: list[Component] = []

    async def __aenter__(self) -> Stack:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.stop()

    async def start(self) -> None:
        backend = self.options.backend
        try:
            if backend == "local":
                await self._start_local()
            elif backend == "compose":
                await self._start_compose(os.environ)
            elif backend == "containers":
                from chaos.stack.containers import ContainerPostgres

                await self._start_local(ContainerPostgres(rows=self.options.rows))
            else:
                raise StackError(f"unknown stack backend {backend!r} (local, compose, containers)")
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop what was started, in reverse order; one failing stop does not skip the others."""
        while self._started:
            component = self._started.pop()
            try:
                await component.stop()
            except Exception:  # noqa: BLE001 - keep stopping the rest, say what failed
                logger.exception("stopping %s failed", component.name)

    async def healthy(self) -> bool:
        """Every started component answers (the app's /health and /ready among them)."""
        if not self._started:
            return False
        for component in self._started:
            try:
                if not await component.healthy():
                    return False
            except Exception:  # noqa: BLE001 - a component that cannot even say is not healthy
                return False
        return True

    def logs(self) -> dict[str, str]:
        """Each started component's captured log, by name."""
        return {component.name: component.logs() for component in self._started}

    async def _start_local(self, postgres: Any = None) -> None:
        """PostgreSQL (a local cluster, or the given component), then everything else."""
        self.postgres = postgres or PostgresComponent(rows=self.options.rows)
        await self._start(self.postgres)
        self.admin_db_url = self.postgres.url

        self.toxiproxy_server = ToxiproxyServer(log_dir=self.options.log_dir)
        await self._start(self.toxiproxy_server)
        self.toxiproxy = self.toxiproxy_server.client
        self.db_url = await self._proxy_database("postgres")
        self.cache_db_url = await self._proxy_database("cache")

        env = {"DATABASE_URL": self.db_url, "CACHE_DATABASE_URL": self.cache_db_url}
        if self.options.auth:
            issuer = IssuerComponent()
            issuer.issuer.max_age_s = self.options.jwks_max_age_s
            await self._start(issuer)
            self.issuer = issuer.issuer
            jwks_listen = f"{LOOPBACK}:{free_port()}"
            await self.toxiproxy.create_proxy("jwks", listen=jwks_listen, upstream=f"{LOOPBACK}:{self.issuer.port}")
            env |= {
                "FRAISEQL_AUTH_ISSUER": self.issuer.issuer,
                "FRAISEQL_AUTH_AUDIENCE": self.issuer.audience,
                # The issuer's certificate names 127.0.0.1, so TLS through the proxy verifies.
                "FRAISEQL_AUTH_JWKS_URL": f"https://{jwks_listen}/.well-known/jwks.json",
                "FRAISEQL_AUTH_CA_FILE": self.issuer.ca_file,
                "FRAISEQL_AUTH_ALGORITHMS": ",".join(ASYMMETRIC_ALGORITHMS),
            }
        self.agent_token = secrets.token_urlsafe(24)
        env["FRAISEQL_CHAOS_AGENT_TOKEN"] = self.agent_token
        self.app = AppProcess(
            {**env, **self.options.app_env},
            log_dir=self.options.log_dir,
            start_timeout_s=self.options.app_start_timeout_s,
            workers=self.options.workers,
        )
        await self._start(self.app)
        self.app_url = self.app.url

    async def _proxy_database(self, name: str) -> str:
        """Create proxy ``name`` to the cluster; the blog database's URL through it."""
        assert self.postgres is not None and self.toxiproxy is not None
        listen = f"{LOOPBACK}:{free_port()}"
        await self.toxiproxy.create_proxy(name, listen=listen, upstream=self.postgres.address)
        return with_address(self.postgres.url, listen)

    async def _start(self, component: Component) -> None:
        # Registered before start: a start that fails half-way is still stopped.
        self._started.append(component)
        await component.start()

    async def _start_compose(self, environ: Mapping[str, str]) -> None:
        """Attach to a running ``docker-compose.chaos.yml`` through its published addresses."""
        required = ("FRAISEQL_APP_URL", "DATABASE_URL", "TOXIPROXY_URL")
        missing = [name for name in required if not environ.get(name)]
        if missing:
            raise StackError(
                f"the compose backend reads the stack's addresses from the environment; "
                f"missing: {', '.join(missing)} (see docker-compose.chaos.yml)"
            )
        self.app_url = environ["FRAISEQL_APP_URL"].rstrip("/")
        self.admin_db_url = environ["DATABASE_URL"]
        self.db_url = environ.get("PROXIED_DATABASE_URL", self.admin_db_url)
        self.cache_db_url = environ.get("PROXIED_CACHE_DATABASE_URL", self.db_url)
        self.agent_token = environ.get("FRAISEQL_CHAOS_AGENT_TOKEN")
        self.toxiproxy = Toxiproxy(environ["TOXIPROXY_URL"])
        proxies = await self.toxiproxy.proxies()
        absent = [name for name in ("postgres", "cache") if name not in proxies]
        if absent:
            raise StackError(f"Toxiproxy at {self.toxiproxy.url} lacks the proxies {absent}")

        async def app_ready() -> bool:
            async with httpx.AsyncClient(timeout=3) as client:
                return (await client.get(f"{self.app_url}/ready")).status_code == 200

        await wait_until(app_ready, self.options.app_start_timeout_s, f"the app at {self.app_url}")
