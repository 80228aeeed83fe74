"""Load shedding: refuse GraphQL requests beyond ``max_in_flight`` at once, with a 503.

A server that accepts every request under overload queues them, each waits for a pool
connection, all of them get slow, and clients time out and retry, which adds more. It is
better to say "not now" immediately to the excess (503 ``OVERLOADED`` with
``Retry-After``, costing microseconds) and serve the rest at normal speed.

A request counts from the moment its body has been read (a slow client still sending
is not work in flight, and is bounded by ``body_read_timeout_s``) until its work has
really stopped: a request answered 504 whose work is still being cancelled still counts,
so timeouts cannot hide load. ``/health``, ``/ready`` and the chaos agent are never shed
(only the GraphQL path goes through ``RequestGuard``).

Example::

    in_flight = InFlight(max_in_flight=256)
    if not in_flight.admit():
        ...  # 503 OVERLOADED
    try:
        ...
    finally:
        in_flight.release()
"""

from __future__ import annotations

import asyncio

from fraiseql import telemetry


class InFlight:
    """Counts requests in flight, admits up to ``max_in_flight`` (0: no limit)."""

    def __init__(self, max_in_flight: int = 0) -> None:
        self.max_in_flight = max_in_flight
        self.count = 0
        self.shed = 0
        self.peak = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def admit(self) -> bool:
        """Count one more request, or refuse it (and count the refusal)."""
        if self.max_in_flight and self.count >= self.max_in_flight:
            self.shed += 1
            telemetry.record_shed("in_flight")
            return False
        self.count += 1
        self.peak = max(self.peak, self.count)
        self._idle.clear()
        return True

    def release(self) -> None:
        self.count -= 1
        if self.count <= 0:
            self.count = 0
            self._idle.set()

    async def wait_idle(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` until nothing is in flight; True if it came to that."""
        if self.count == 0:
            return True
        try:
            await asyncio.wait_for(self._idle.wait(), timeout_s)
        except TimeoutError:
            return False
        return True

    def snapshot(self) -> dict[str, int]:
        return {"in_flight": self.count, "max_in_flight": self.max_in_flight, "shed": self.shed, "peak": self.peak}
