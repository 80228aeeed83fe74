"""Live progress on the terminal: phase, elapsed, requests/s, error rate, p99.

On a TTY one line is rewritten in place; otherwise (CI logs) a line is printed every
`interval_s`. It is an event listener, so the runner does not know it exists.

Example::

    bus.subscribe(Progress(sys.stderr))
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import TextIO

from chaos.events import (
    Event,
    FaultApplied,
    FaultReverted,
    PhaseStarted,
    RequestsLogged,
    RunFinished,
    RunStarted,
)
from chaos.report.stats import is_error, percentile

WINDOW_S = 5.0  # rates and p99 over the last seconds, so the line reacts to a fault


class Progress:
    def __init__(self, stream: TextIO, *, interval_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.interval_s = interval_s
        self.clock = clock
        self.started = clock()
        self.phase = "-"
        self.last_line = float("-inf")
        self.window: deque[tuple[float, bool, float]] = deque()  # (t, error, latency_ms)

    def __call__(self, event: Event) -> None:
        now = self.clock()
        if isinstance(event, RunStarted):
            self.started = now
            self._say(f"chaos: {event.scenario} (profile {event.profile}, seed {event.seed})")
        elif isinstance(event, PhaseStarted):
            self.phase = event.name
            self._say(f"phase {event.name} ({event.kind}, {event.duration_s:.0f} s)")
        elif isinstance(event, FaultApplied):
            self._say(f"fault {event.fault_type} applied in {event.phase}")
        elif isinstance(event, FaultReverted):
            self._say(f"fault {event.fault_type} reverted (fired: {event.fired})")
        elif isinstance(event, RequestsLogged):
            for record in event.records:
                self.window.append((float(record["t"]), is_error(record),
                                    float(record.get("latency_ms") or 0.0)))
            self._status(now)
        elif isinstance(event, RunFinished):
            self._say(f"finished, exit code {event.exit_code}")

    def line(self, now: float) -> str:
        if self.window:
            newest = self.window[-1][0]
            while self.window and self.window[0][0] < newest - WINDOW_S:
                self.window.popleft()
        count = len(self.window)
        errors = sum(1 for _, error, _ in self.window if error)
        p99 = percentile(sorted(lat for _, _, lat in self.window), 99)
        return (f"[{self.phase}] {now - self.started:6.1f}s  {count / WINDOW_S:7.1f} req/s  "
                f"errors {errors / count * 100 if count else 0.0:5.1f}%  "
                f"p99 {p99 if p99 is not None else 0.0:7.1f} ms")

    def _status(self, now: float) -> None:
        if self.tty:
            self.stream.write("\r\x1b[2K" + self.line(now))
            self.stream.flush()
        elif now - self.last_line >= self.interval_s:
            self.last_line = now
            self.stream.write(self.line(now) + "\n")
            self.stream.flush()

    def _say(self, message: str) -> None:
        prefix = "\r\x1b[2K" if self.tty else ""
        self.stream.write(prefix + message + "\n")
        self.stream.flush()
