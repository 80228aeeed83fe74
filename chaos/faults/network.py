"""Network faults: Toxiproxy's toxics on the stack's proxies, and a proxy taken down.

One class per toxic, named like Toxiproxy's toxics; each acts on one proxy (``target``:
``postgres``, ``cache`` or ``jwks``), in one direction or both (``upstream`` is client ->
server), on a ``toxicity`` share of the connections.

Evidence has two halves. The toxic was on the proxy: read back from Toxiproxy's API right
after it was added and again just before it is removed. Traffic went through it: a probe
(a real PostgreSQL session, or a real HTTPS JWKS fetch) goes through the proxy every half
second while the fault holds, and the proxy's byte counters (Toxiproxy's ``/metrics``)
moved between apply and revert. Toxiproxy 2.12 counts a connection's bytes only when the
connection closes, so the app's long-lived pooled connections alone would show nothing:
the probe's short connections are what make the counters honest.

Example (scenario YAML)::

    - type: latency
      target: postgres
      latency_ms: 200
      jitter_ms: 20
      direction: downstream
"""

from __future__ import annotations

import asyncio
import itertools
import ssl
import statistics
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import httpx
import psycopg
from pydantic import Field

from chaos.faults.base import Evidence, Fault, FaultContext, FaultParams, register, register_cleaner
from chaos.stack.base import with_address
from chaos.stack.toxiproxy import Toxiproxy, Traffic

if TYPE_CHECKING:
    from chaos.stack.stack import Stack

Target = Literal["postgres", "cache", "jwks"]
Direction = Literal["upstream", "downstream", "both"]
PROBE_INTERVAL_S = 0.5
HOLDING_TOXICS = frozenset({"latency", "timeout", "bandwidth", "slicer"})  # delay or drop data
PROBE_TIMEOUT_S = 2.0
_toxic_numbers = itertools.count(1)


class NetworkParams(FaultParams):
    target: Target = "postgres"


class ToxicParams(NetworkParams):
    direction: Direction = "downstream"
    toxicity: float = Field(1.0, ge=0, le=1, description="share of connections affected")


@dataclass
class _Observation:
    """What a network fault saw between apply and revert."""

    before: Traffic | None = None
    after: Traffic | None = None
    seen_applied: bool = False
    seen_at_revert: bool = False
    removed: bool = False
    probe_ms: list[float] = field(default_factory=list)
    probe_failures: int = 0
    probe_errors: list[str] = field(default_factory=list)


class NetworkFault(Fault):
    """Shared by every network fault: the probe loop and the traffic half of the evidence."""

    def __init__(self, params: NetworkParams) -> None:
        super().__init__(params)
        self.params: NetworkParams = params
        self._seen = _Observation()
        self._stop_probe = asyncio.Event()
        self._probe_task: asyncio.Task[None] | None = None

    async def _start_observing(self, client: Toxiproxy, ctx: FaultContext) -> None:
        self._seen.before = await client.traffic(self.params.target)
        listen = (await client.proxy(self.params.target)).listen
        self._stop_probe.clear()
        self._probe_task = asyncio.create_task(self._probe_loop(ctx.stack, listen))

    async def _stop_observing(self, client: Toxiproxy) -> None:
        task, self._probe_task = self._probe_task, None
        if task is None:
            return
        self._stop_probe.set()
        await task
        self._seen.after = await client.traffic(self.params.target)

    async def _probe_loop(self, stack: Stack, listen: str) -> None:
        while not self._stop_probe.is_set():
            started = time.perf_counter()
            try:
                # The clients' own timeouts fire first and close their sockets; this outer
                # bound only catches what they miss (cancelling mid-connect leaks a socket).
                async with asyncio.timeout(PROBE_TIMEOUT_S * 2):
                    await probe_through(stack, self.params.target, listen)
                self._seen.probe_ms.append((time.perf_counter() - started) * 1000)
            except (OSError, TimeoutError, psycopg.Error, httpx.HTTPError) as exc:
                self._seen.probe_failures += 1
                if len(self._seen.probe_errors) < 3:
                    self._seen.probe_errors.append(f"{type(exc).__name__}: {exc}"[:200])
            try:
                await asyncio.wait_for(self._stop_probe.wait(), PROBE_INTERVAL_S)
            except TimeoutError:
                pass

    def _traffic_details(self) -> dict[str, Any]:
        seen = self._seen
        before = seen.before or Traffic(0, 0)
        after = seen.after or before
        probe_ms = seen.probe_ms
        return {
            "proxy": self.params.target,
            "bytes_upstream": after.upstream_bytes - before.upstream_bytes,
            "bytes_downstream": after.downstream_bytes - before.downstream_bytes,
            "probes": len(probe_ms) + seen.probe_failures,
            "probe_failures": seen.probe_failures,
            "probe_errors": list(seen.probe_errors),
            "probe_median_ms": round(statistics.median(probe_ms), 1) if probe_ms else None,
        }

    async def _live_traffic(self, ctx: FaultContext) -> None:
        """Evidence asked for while the fault still holds: read the counters now."""
        if self._probe_task is not None and self._seen.before is not None:
            self._seen.after = await _client(ctx).traffic(self.params.target)


class ToxicFault(NetworkFault):
    """A Toxiproxy toxic; subclasses say which and map their fields to its attributes."""

    toxic: ClassVar[str]

    def __init__(self, params: ToxicParams) -> None:
        super().__init__(params)
        self.params: ToxicParams = params
        number = next(_toxic_numbers)
        self._names = {
            stream: f"fraiseql-chaos-{self.toxic}-{stream}-{number}" for stream in self._streams()
        }

    def attributes(self) -> dict[str, int]:
        raise NotImplementedError

    def _streams(self) -> tuple[str, ...]:
        direction = self.params.direction
        return ("upstream", "downstream") if direction == "both" else (direction,)

    async def apply(self, ctx: FaultContext) -> None:
        client = _client(ctx)
        for stream, name in self._names.items():
            await client.add_toxic(
                self.params.target, self.toxic, stream=stream, toxicity=self.params.toxicity,
                attributes=self.attributes(), name=name,
            )
        self._seen.seen_applied = await self._all_present(client)
        await self._start_observing(client, ctx)

    async def revert(self, ctx: FaultContext) -> None:
        client = _client(ctx)
        if self._probe_task is not None:
            self._seen.seen_at_revert = await self._all_present(client)
        await self._stop_observing(client)
        for name in self._names.values():
            await client.remove_toxic(self.params.target, name)
        present = {t.name for t in (await client.proxy(self.params.target)).toxics}
        self._seen.removed = not present & set(self._names.values())

    async def evidence(self, ctx: FaultContext) -> Evidence:
        await self._live_traffic(ctx)
        details = self._traffic_details()
        held = self._seen.seen_applied and (self._seen.seen_at_revert or self._probe_task is not None)
        details |= {
            "toxics": sorted(self._names.values()),
            "attributes": self.attributes(),
            "toxicity": self.params.toxicity,
            "present_while_applied": held,
            "removed_on_revert": self._seen.removed,
        }
        carried = details["bytes_upstream"] + details["bytes_downstream"] > 0
        if not carried and self.toxic in HOLDING_TOXICS and self._seen.probe_failures:
            # A toxic that holds data back can keep every probe from finishing (and Toxiproxy
            # counts a connection's bytes only when it closes): a probe timed out through it.
            carried = any("timeout" in e.lower() for e in self._seen.probe_errors)
            details["probes_held"] = carried
        return Evidence(fired=held and carried, details=details)

    async def _all_present(self, client: Toxiproxy) -> bool:
        present = {t.name for t in (await client.proxy(self.params.target)).toxics}
        return set(self._names.values()) <= present


async def probe_through(stack: Stack, target: str, listen: str) -> None:
    """One real exchange through the proxy listening on ``listen``; raises when it fails."""
    if target == "jwks":
        verify = ssl.create_default_context(cafile=stack.issuer.ca_file if stack.issuer else None)
        async with httpx.AsyncClient(verify=verify, timeout=PROBE_TIMEOUT_S) as http:
            (await http.get(f"https://{listen}/.well-known/jwks.json")).raise_for_status()
        return
    url = with_address(stack.admin_db_url, listen)
    async with await psycopg.AsyncConnection.connect(
        url, connect_timeout=int(PROBE_TIMEOUT_S), application_name="fraiseql-chaos-probe", autocommit=True
    ) as conn:
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_S):
                await conn.execute("SELECT 1")
        except TimeoutError:
            await conn.close()  # a cancelled query leaves the session unusable: close it here
            raise


def _client(ctx: FaultContext) -> Toxiproxy:
    client = ctx.stack.toxiproxy
    if client is None:
        raise RuntimeError("the stack has no Toxiproxy: network faults need a started stack")
    return client


# --- one class per toxic ----------------------------------------------------------------


class LatencyParams(ToxicParams):
    type: Literal["latency"] = "latency"
    latency_ms: int = Field(ge=0)
    jitter_ms: int = Field(0, ge=0)


@register
class Latency(ToxicFault):
    """Delay every chunk of data by ``latency_ms`` +/- ``jitter_ms``."""

    type = toxic = "latency"
    Params = LatencyParams

    def attributes(self) -> dict[str, int]:
        return {"latency": self.params.latency_ms, "jitter": self.params.jitter_ms}


class BandwidthParams(ToxicParams):
    type: Literal["bandwidth"] = "bandwidth"
    rate_kb_s: int = Field(ge=0, description="KB per second")


@register
class Bandwidth(ToxicFault):
    """Limit the connection to ``rate_kb_s`` kilobytes per second."""

    type = toxic = "bandwidth"
    Params = BandwidthParams

    def attributes(self) -> dict[str, int]:
        return {"rate": self.params.rate_kb_s}


class SlowCloseParams(ToxicParams):
    type: Literal["slow_close"] = "slow_close"
    delay_ms: int = Field(ge=0)


@register
class SlowClose(ToxicFault):
    """Delay the TCP close by ``delay_ms``."""

    type = toxic = "slow_close"
    Params = SlowCloseParams

    def attributes(self) -> dict[str, int]:
        return {"delay": self.params.delay_ms}


class TimeoutParams(ToxicParams):
    type: Literal["timeout"] = "timeout"
    timeout_ms: int = Field(0, ge=0, description="0: data is dropped and the connection held open")


@register
class Timeout(ToxicFault):
    """Stop all data; close the connection after ``timeout_ms`` (never, when 0)."""

    type = toxic = "timeout"
    Params = TimeoutParams

    def attributes(self) -> dict[str, int]:
        return {"timeout": self.params.timeout_ms}


class ResetPeerParams(ToxicParams):
    type: Literal["reset_peer"] = "reset_peer"
    timeout_ms: int = Field(0, ge=0, description="0: reset at once")


@register
class ResetPeer(ToxicFault):
    """Reset the connection with a TCP RST after ``timeout_ms``."""

    type = toxic = "reset_peer"
    Params = ResetPeerParams

    def attributes(self) -> dict[str, int]:
        return {"timeout": self.params.timeout_ms}


class SlicerParams(ToxicParams):
    type: Literal["slicer"] = "slicer"
    average_size_bytes: int = Field(gt=0)
    size_variation_bytes: int = Field(0, ge=0)
    delay_us: int = Field(0, ge=0)


@register
class Slicer(ToxicFault):
    """Cut data into small packets of ``average_size_bytes``, ``delay_us`` apart."""

    type = toxic = "slicer"
    Params = SlicerParams

    def attributes(self) -> dict[str, int]:
        p = self.params
        return {"average_size": p.average_size_bytes, "size_variation": p.size_variation_bytes, "delay": p.delay_us}


class LimitDataParams(ToxicParams):
    type: Literal["limit_data"] = "limit_data"
    bytes: int = Field(gt=0)


@register
class LimitData(ToxicFault):
    """Close each connection once ``bytes`` bytes went through."""

    type = toxic = "limit_data"
    Params = LimitDataParams

    def attributes(self) -> dict[str, int]:
        return {"bytes": self.params.bytes}


# --- the proxy itself -------------------------------------------------------------------


class ProxyDownParams(NetworkParams):
    type: Literal["proxy_down"] = "proxy_down"


@register
class ProxyDown(NetworkFault):
    """Disable the proxy (every connection dropped, nothing listens), then enable it."""

    type = "proxy_down"
    Params = ProxyDownParams

    async def apply(self, ctx: FaultContext) -> None:
        client = _client(ctx)
        await client.set_enabled(self.params.target, False)
        self._seen.seen_applied = not (await client.proxy(self.params.target)).enabled
        await self._start_observing(client, ctx)

    async def revert(self, ctx: FaultContext) -> None:
        client = _client(ctx)
        if self._probe_task is not None:
            self._seen.seen_at_revert = not (await client.proxy(self.params.target)).enabled
        await self._stop_observing(client)
        await client.set_enabled(self.params.target, True)
        self._seen.removed = (await client.proxy(self.params.target)).enabled

    async def evidence(self, ctx: FaultContext) -> Evidence:
        details = self._traffic_details()
        held = self._seen.seen_applied and (self._seen.seen_at_revert or self._probe_task is not None)
        details |= {"disabled_while_applied": held, "enabled_on_revert": self._seen.removed}
        # A refused connection is the proof here: nothing listened where the app connects.
        return Evidence(fired=held and details["probe_failures"] > 0, details=details)


@register_cleaner("network")
async def clean_network(ctx: FaultContext) -> list[str]:
    """Remove every toxic and re-enable every proxy (a killed run may have left either)."""
    client = _client(ctx)
    found = []
    for name, proxy in sorted((await client.proxies()).items()):
        found += [f"network: removed toxic {toxic.name} from proxy {name}" for toxic in proxy.toxics]
        if not proxy.enabled:
            found.append(f"network: re-enabled proxy {name}")
    await client.reset()
    return found
