"""Resource faults for the chaos agent: CPU hogs and memory pressure inside the app process.

The harness cannot make an app CPU-bound or short of memory from outside without
touching the machine; these faults do it from inside, the way a real bug would:

- ``cpu``: ``threads`` threads run a pure-Python loop until ``duration_s`` passes or the
  fault is removed. They hold the GIL in slices (Python switches threads every 5 ms), so
  the event loop gets the interpreter only part of the time, like a CPU-bound bug in a
  request handler or a library. Each thread reports its CPU time (``time.thread_time``).
- ``memory``: allocates ``mb`` MiB, writes every page (so the memory is resident, not
  just reserved) and holds it until ``duration_s`` passes or the fault is removed; the
  total held by all memory faults is capped at ``MAX_MEMORY_MB``.

Input errors are ``ResourceSpecError`` with a message naming the field; the agent turns
them into 400s. Finished faults stay listed (inactive, with final counters) until
removed; at most ``MAX_RESOURCES`` are kept, the oldest finished ones dropped first.

Example::

    faults = ResourceFaults()
    fault = await faults.add({"kind": "cpu", "threads": 1, "duration_s": 10})
    faults.describe()            # {"resources": [{"id": "r1", "cpu_s": 0.8, ...}], "process": ...}
    await faults.remove("r1")    # stops it, returns its final counters
"""

from __future__ import annotations

import asyncio
import itertools
import os
import threading
import time
from typing import Any

MAX_MEMORY_MB = 2048
MAX_THREADS = 32
MAX_DURATION_S = 3600.0
MAX_RESOURCES = 64
_MIB = 1024 * 1024
_PAGE = 4096
_CHUNK_MB = 16  # allocated in pieces, so a big request does not need one contiguous block

_FIELDS = {"cpu": {"kind", "threads", "duration_s"}, "memory": {"kind", "mb", "duration_s"}}


class ResourceSpecError(ValueError):
    """A resource fault request is malformed; the message says which field and why."""


class _Resource:
    kind = ""

    def __init__(self, resource_id: str, duration_s: float) -> None:
        self.id = resource_id
        self.duration_s = duration_s
        self.started = time.monotonic()
        self.stopped_at: float | None = None
        self._timer: asyncio.TimerHandle | None = None

    @property
    def active(self) -> bool:
        return self.stopped_at is None

    def schedule_stop(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = loop.call_later(self.duration_s, self.stop)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self.stopped_at is None:
            self.stopped_at = time.monotonic()
            self._release()

    def _release(self) -> None:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        end = self.stopped_at if self.stopped_at is not None else time.monotonic()
        return {
            "id": self.id,
            "kind": self.kind,
            "active": self.active,
            "duration_s": self.duration_s,
            "elapsed_s": round(end - self.started, 3),
            "cpu_s": 0.0,
            "bytes": 0,
        }


class _CpuHog(_Resource):
    kind = "cpu"

    def __init__(self, resource_id: str, duration_s: float, threads: int) -> None:
        super().__init__(resource_id, duration_s)
        self.threads = threads
        self._stop = threading.Event()
        self._cpu_s = [0.0] * threads
        self._threads = [
            threading.Thread(target=self._burn, args=(i,), name=f"chaos-cpu-{resource_id}-{i}", daemon=True)
            for i in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    def _burn(self, index: int) -> None:
        deadline = time.monotonic() + self.duration_s
        start_cpu = time.thread_time()
        value = 0
        while not self._stop.is_set() and time.monotonic() < deadline:
            for i in range(20_000):  # about a millisecond of pure-Python work
                value = (value * 31 + i) % 1_000_003
            self._cpu_s[index] = time.thread_time() - start_cpu
        self._cpu_s[index] = time.thread_time() - start_cpu

    def _release(self) -> None:
        self._stop.set()

    def join(self, timeout_s: float) -> None:
        end = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, end - time.monotonic()))

    def describe(self) -> dict[str, Any]:
        alive = any(thread.is_alive() for thread in self._threads)
        if not alive and self.stopped_at is None:  # ran out its duration in the threads
            self.stop()
        return {**super().describe(), "threads": self.threads, "cpu_s": round(sum(self._cpu_s), 3)}


class _MemoryHog(_Resource):
    kind = "memory"

    def __init__(self, resource_id: str, duration_s: float, mb: int) -> None:
        super().__init__(resource_id, duration_s)
        self.mb = mb
        self._chunks: list[bytearray] = []

    def allocate(self) -> None:
        """Allocate and touch every page (runs in a worker thread; stops if removed)."""
        remaining = self.mb
        while remaining > 0 and self.stopped_at is None:
            size = min(_CHUNK_MB, remaining) * _MIB
            chunk = bytearray(size)
            chunk[::_PAGE] = b"\x01" * len(range(0, size, _PAGE))
            self._chunks.append(chunk)
            remaining -= min(_CHUNK_MB, remaining)
        if self.stopped_at is not None:
            self._chunks.clear()

    @property
    def held_bytes(self) -> int:
        return sum(len(chunk) for chunk in self._chunks)

    def _release(self) -> None:
        self._chunks.clear()

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "mb": self.mb, "bytes": self.held_bytes}


class ResourceFaults:
    """The agent's resource faults by id (see the module docstring)."""

    def __init__(self) -> None:
        self._resources: dict[str, _Resource] = {}
        self._ids = itertools.count(1)

    async def add(self, spec: Any) -> _Resource:
        kind, duration_s, amount = _validate(spec)
        if kind == "memory":
            held_mb = sum(r.mb for r in self._memory() if r.active)
            if held_mb + amount > MAX_MEMORY_MB:
                raise ResourceSpecError(
                    f"mb: {amount} more MiB would hold {held_mb + amount} MiB, over the cap of "
                    f"{MAX_MEMORY_MB} MiB; remove some memory faults first"
                )
        self._prune()
        resource_id = f"r{next(self._ids)}"
        resource: _Resource
        if kind == "cpu":
            resource = _CpuHog(resource_id, duration_s, amount)
            self._resources[resource_id] = resource
        else:
            resource = _MemoryHog(resource_id, duration_s, amount)
            self._resources[resource_id] = resource  # listed (and removable) while it allocates
            await asyncio.to_thread(resource.allocate)
        if resource.active:
            resource.schedule_stop(asyncio.get_running_loop())
        return resource

    async def remove(self, resource_id: str) -> dict[str, Any] | None:
        """Stop one fault and forget it; its final counters, or None if unknown."""
        resource = self._resources.pop(resource_id, None)
        if resource is None:
            return None
        return await self._stop(resource)

    async def remove_all(self) -> int:
        resources = list(self._resources.values())
        self._resources.clear()
        for resource in resources:
            await self._stop(resource)
        return len(resources)

    def describe(self) -> dict[str, Any]:
        return {"resources": [r.describe() for r in self._resources.values()], "process": process_usage()}

    async def _stop(self, resource: _Resource) -> dict[str, Any]:
        resource.stop()
        if isinstance(resource, _CpuHog):
            await asyncio.to_thread(resource.join, 5.0)
        return resource.describe()

    def _memory(self) -> list[_MemoryHog]:
        return [r for r in self._resources.values() if isinstance(r, _MemoryHog)]

    def _prune(self) -> None:
        """Keep at most MAX_RESOURCES - 1 before adding one: drop the oldest finished."""
        for resource_id, resource in list(self._resources.items()):
            if len(self._resources) < MAX_RESOURCES:
                return
            resource.describe()  # notices a CPU hog whose threads ran out
            if not resource.active:
                del self._resources[resource_id]
        if len(self._resources) >= MAX_RESOURCES:
            raise ResourceSpecError(
                f"{MAX_RESOURCES} resource faults are active; remove some first"
            )


def _validate(spec: Any) -> tuple[str, float, int]:
    if not isinstance(spec, dict):
        raise ResourceSpecError("the body must be a JSON object")
    kind = spec.get("kind")
    if kind not in _FIELDS:
        raise ResourceSpecError(f"kind: must be one of {sorted(_FIELDS)} (got {kind!r})")
    unknown = set(spec) - _FIELDS[kind]
    if unknown:
        raise ResourceSpecError(
            f"unknown fields {sorted(unknown)} for kind {kind!r}; known: {sorted(_FIELDS[kind])}"
        )
    duration_s = spec.get("duration_s")
    if isinstance(duration_s, bool) or not isinstance(duration_s, (int, float)):
        raise ResourceSpecError(f"duration_s: a number of seconds is required (got {duration_s!r})")
    if not 0 < duration_s <= MAX_DURATION_S:
        raise ResourceSpecError(f"duration_s: must be above 0 and at most {MAX_DURATION_S:g} (got {duration_s})")
    field, limit = ("threads", MAX_THREADS) if kind == "cpu" else ("mb", MAX_MEMORY_MB)
    amount = spec.get(field)
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ResourceSpecError(f"{field}: an integer is required (got {amount!r})")
    if not 1 <= amount <= limit:
        raise ResourceSpecError(f"{field}: must be from 1 to {limit} (got {amount})")
    return kind, float(duration_s), amount


def process_usage() -> dict[str, Any]:
    """The process's resident memory (``/proc/self/status`` VmRSS) and CPU time so far."""
    times = os.times()
    return {"rss_bytes": _rss_bytes(), "cpu_s": round(times.user + times.system, 3)}


def _rss_bytes() -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024  # the kernel reports kB
    except OSError:
        return None
    return None
