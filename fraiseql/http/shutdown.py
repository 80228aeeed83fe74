"""Graceful shutdown: stop being ready at once, let requests in flight finish, then close.

On SIGTERM, uvicorn stops accepting connections, lets requests in flight finish (with no
time limit unless configured), then runs the lifespan shutdown. What it cannot know is
that the app must also say it is going away, and that its wait must end. ``Drain`` adds:

1. at the signal, ``/ready`` answers 503 ``{"status": "draining"}`` immediately (a load
   balancer that probes it stops sending work), by chaining the server's SIGTERM/SIGINT
   handler (only in the main thread, and only when a handler is there to chain);
2. requests in flight keep running, up to ``shutdown_drain_s`` after the signal; then the
   ones still running are answered 503 ``SHUTTING_DOWN`` and cancelled (``expired``), so
   the drain ends on time;
3. only then do the lifespan shutdown close the pools (``app._stop``), so no request
   loses its connection half-way.

Example::

    drain = Drain(drain_s=10, in_flight=in_flight)
    drain.install_signal_handlers()   # at start-up
    ...
    drain.begin()                     # SIGTERM does this
    await drain.wait()                # at shutdown: True if everything finished
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from types import FrameType
from typing import Any

from fraiseql.deadlines import ABANDONED
from fraiseql.http.shedding import InFlight

logger = logging.getLogger("fraiseql.shutdown")

_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Drain:
    """Whether the app is shutting down, and the deadline for what is still in flight."""

    def __init__(self, drain_s: float, in_flight: InFlight) -> None:
        self.drain_s = drain_s
        self.in_flight = in_flight
        self.draining = False
        self.at_begin = 0  # requests in flight when the drain began
        self.cut_short = 0  # requests still running at the drain deadline
        self._loop = asyncio.get_running_loop()
        self.expired: asyncio.Future[None] = self._loop.create_future()
        self._timer: asyncio.TimerHandle | None = None
        self._previous: dict[int, Any] = {}

    def begin(self) -> None:
        """Stop being ready; requests in flight get ``drain_s`` more to finish."""
        self.draining = True
        if self._timer is not None:
            return
        self.at_begin = self.in_flight.count
        if self.at_begin:
            logger.warning(
                "shutting down: draining %d request(s) in flight (up to %gs)", self.at_begin, self.drain_s
            )
        self._timer = self._loop.call_later(self.drain_s, self._expire)

    def _expire(self) -> None:
        if not self.expired.done():
            self.cut_short = self.in_flight.count
            self.expired.set_result(None)

    async def wait(self) -> bool:
        """Wait for requests in flight until the drain deadline; True if all finished."""
        self.begin()
        if self.in_flight.count:
            idle = asyncio.ensure_future(self.in_flight.wait_idle(self.drain_s))
            await asyncio.wait((idle, self.expired), return_when=asyncio.FIRST_COMPLETED)
            idle.cancel()
        self._expire()  # whatever is still running is answered SHUTTING_DOWN now
        # Work that was cancelled (on the deadline, or a request timeout) gets a moment to
        # give its connection back before the pools close under it.
        await ABANDONED.wait(1.0)
        if self.in_flight.count:
            await self.in_flight.wait_idle(1.0)
        if self.at_begin or self.cut_short:
            outcome = (
                f"cut short ({self.cut_short} request(s) answered SHUTTING_DOWN)"
                if self.cut_short else "complete"
            )
            logger.warning("shutting down: drain %s; closing the pools", outcome)
        return not self.cut_short

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._expire()
        self.restore_signal_handlers()

    # -- signals ---------------------------------------------------------------------

    def install_signal_handlers(self) -> bool:
        """Chain SIGTERM/SIGINT so the drain begins the moment the server is told to stop.

        Only in the main thread (Python's rule) and only over a callable handler (the
        server's: uvicorn installs its own before the lifespan starts).
        """
        if threading.current_thread() is not threading.main_thread():
            return False
        for sig in _SIGNALS:
            previous = signal.getsignal(sig)
            if not callable(previous):
                continue
            self._previous[sig] = previous
            signal.signal(sig, self._on_signal)
        return bool(self._previous)

    def restore_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig, previous in self._previous.items():
            if signal.getsignal(sig) == self._on_signal:
                signal.signal(sig, previous)
        self._previous.clear()

    def _on_signal(self, sig: int, frame: FrameType | None) -> None:
        self.draining = True  # /ready turns 503 from the next request on
        self._loop.call_soon_threadsafe(self.begin)
        previous = self._previous.get(sig)
        if callable(previous):
            previous(sig, frame)
