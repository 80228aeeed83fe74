"""A circuit breaker around the database: fail fast while it is down, probe, recover.

Without it, every request during an outage waits the full pool or connect timeout
before failing, so a short outage turns into a queue of stuck requests and a pool that
cannot recover. With it:

- **closed**: calls go through; ``failure_threshold`` consecutive connection failures or
  timeouts (``DatabaseUnavailable``, ``DatabaseTimeout``) open the circuit. Any answer
  from the server (rows, or an error that is not about reaching it) resets the count.
- **open**: calls fail at once with ``CircuitOpenError`` (503 ``DATABASE_UNAVAILABLE``,
  ``extensions.circuit = "open"``, a ``Retry-After`` of the time left) for ``reset_s``.
- **half-open**: the first call after ``reset_s`` is a trial and the others still fail
  fast; the trial's success closes the circuit, its failure opens it for ``reset_s``
  again, and a trial that was cancelled lets the next call try.

Late answers from calls that started before the circuit opened are ignored while it is
open, so one slow success cannot close it. Listeners (``listen``) hear every state
entered: the ``Database`` ends its waits for a pooled connection when the circuit opens.

Example::

    breaker = CircuitBreaker(failure_threshold=5, reset_s=2.0)
    breaker.before_call()          # raises CircuitOpenError while open
    try:
        rows = await run()
    except DatabaseError as exc:
        breaker.record(exc)
        raise
    breaker.record_success()
"""

from __future__ import annotations

import contextvars
import enum
import logging
import time
from collections.abc import Callable
from typing import Any

from fraiseql import telemetry
from fraiseql.errors import CircuitOpenError, DatabaseTimeout, DatabaseUnavailable

logger = logging.getLogger("fraiseql.db")


class BreakerState(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


# Numeric values for the state gauge: higher is worse.
STATE_VALUES = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2}


def counts_as_failure(error: BaseException) -> bool:
    """True for failures to reach the database in time (what the breaker is about)."""
    return isinstance(error, (DatabaseUnavailable, DatabaseTimeout)) and not isinstance(
        error, CircuitOpenError
    )


class CircuitBreaker:
    """The breaker state machine (see the module docstring); one per database."""

    def __init__(
        self,
        failure_threshold: int = 5,
        reset_s: float = 2.0,
        *,
        name: str = "main",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self.failure_threshold = failure_threshold
        self.reset_s = reset_s
        self.name = name
        self._clock = clock
        self.state = BreakerState.CLOSED
        self.consecutive_failures = 0
        self._opened_at = 0.0
        self._trial_in_flight = False
        self.opened = 0  # transitions to open (from closed or a failed trial)
        self.half_opened = 0
        self.closed = 0  # transitions back to closed
        self.rejected = 0  # calls failed fast
        self._listeners: list[Callable[[BreakerState], None]] = []

    def listen(self, listener: Callable[[BreakerState], None]) -> None:
        """Call ``listener(state)`` on every transition, after the state has changed."""
        self._listeners.append(listener)

    def before_call(self) -> None:
        """Let the call through, or raise ``CircuitOpenError``."""
        if self.state is BreakerState.CLOSED:
            return
        if self.state is BreakerState.OPEN:
            remaining = self._opened_at + self.reset_s - self._clock()
            if remaining > 0:
                self._reject(remaining)
            self.half_opened += 1
            self._transition(BreakerState.HALF_OPEN)
        if self._trial_in_flight:
            self._reject(self.reset_s)
        self._trial_in_flight = True

    def record(self, error: BaseException) -> None:
        """A call failed with ``error`` (already translated into FraiseQL's tree)."""
        if counts_as_failure(error):
            held = _HELD.get()
            if held is not None:  # a retried read: its retry policy gives the verdict
                held.append(self)
                return
            self.record_failure()
        else:
            self.record_success()  # the server answered, so it is there

    def record_success(self) -> None:
        if self.state is BreakerState.OPEN:
            return  # a late answer from before the circuit opened
        self.consecutive_failures = 0
        if self.state is BreakerState.HALF_OPEN:
            self._trial_in_flight = False
            self.closed += 1
            self._transition(BreakerState.CLOSED)

    def record_failure(self, *, held: bool = True) -> None:
        """A failure to reach the database; inside ``verdict_after_retries`` it is held
        (``held=False`` records it at once)."""
        attempts = _HELD.get() if held else None
        if attempts is not None:
            attempts.append(self)
            return
        if self.state is BreakerState.OPEN:
            return
        self.consecutive_failures += 1
        if self.state is BreakerState.HALF_OPEN or self.consecutive_failures >= self.failure_threshold:
            self._trial_in_flight = False
            self._opened_at = self._clock()
            self.opened += 1
            self._transition(BreakerState.OPEN)

    def release(self) -> None:
        """A call ended without a verdict (cancelled): a trial slot becomes free again."""
        if self.state is BreakerState.HALF_OPEN:
            self._trial_in_flight = False

    def retry_after_s(self) -> float:
        """Seconds until a call may be let through again (0 when closed)."""
        if self.state is BreakerState.CLOSED:
            return 0.0
        if self.state is BreakerState.OPEN:
            return max(0.0, self._opened_at + self.reset_s - self._clock())
        return self.reset_s

    def snapshot(self) -> dict[str, Any]:
        """State and counters, for ``/ready`` and the chaos agent's stats."""
        return {
            "state": self.state.value,
            "consecutive_failures": self.consecutive_failures,
            "opened": self.opened,
            "half_opened": self.half_opened,
            "closed": self.closed,
            "rejected": self.rejected,
            "retry_after_s": round(self.retry_after_s(), 3),
        }

    def _reject(self, retry_after_s: float) -> None:
        self.rejected += 1
        telemetry.record_breaker_rejected(self.name)
        raise CircuitOpenError(retry_after_s)

    def _transition(self, state: BreakerState) -> None:
        self.state = state
        telemetry.record_breaker_transition(self.name, state.value)
        for listener in self._listeners:
            try:
                listener(state)
            except Exception:  # noqa: BLE001 - a listener must not break the state machine
                logger.exception("a circuit breaker listener failed")


# The breakers whose failures a retried read is holding back (None: record at once).
_HELD: contextvars.ContextVar[list[CircuitBreaker] | None] = contextvars.ContextVar(
    "fraiseql_breaker_held", default=None)


class verdict_after_retries:  # noqa: N801 - used as a context manager, named like one
    """Hold back the failures of one read attempt until its retry policy decides.

    A read that fails and is then retried on another connection did not find the database
    down, and counting each attempt would let a link that loses a third of its attempts
    (resets, a flaky network) open the circuit, turning a third of the requests failing
    into all of them. So an attempt's failures are held; the ``settle(retrying)`` it gives
    forgets them when the read is retried (a trial slot is freed) and records them when
    it gives up. An outage fails every attempt of every read, and still opens the circuit.
    (A class, not a generator context manager: it is entered on every read.)

    Example::

        with verdict_after_retries() as settle:
            try:
                return await attempt()
            except DatabaseError:
                settle(retrying=will_retry)
                raise
    """

    __slots__ = ("_held", "_token")

    def __enter__(self) -> Callable[[bool], None]:
        self._held: list[CircuitBreaker] = []
        self._token = _HELD.set(self._held)
        return self.settle

    def settle(self, retrying: bool) -> None:
        held = self._held
        if not held:
            return
        attempts, held[:] = list(held), []
        for breaker in attempts:
            if retrying:
                breaker.release()
            else:
                breaker.record_failure(held=False)

    def __exit__(self, *exc_info: object) -> None:
        _HELD.reset(self._token)
        self.settle(retrying=False)  # anything still held (an error that was not a DatabaseError)
