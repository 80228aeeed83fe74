"""Retrying reads after transient database failures, with jittered backoff and a budget.

A read that failed because its connection was lost (a terminated backend, a restart, a
reset peer), because the server refused it for a moment (too many clients, admin
shutdown) or because PostgreSQL aborted it (40001, 40P01) usually succeeds at once on
another connection, and repeating a read changes nothing. So reads are retried:
``attempts`` times at most, waiting ``uniform(0, backoff_s * 2**n)`` (full jitter, so
retries from many requests do not arrive together), and never past ``budget_s`` from the
first attempt, so retries cannot turn a short request into a long one. Which failures
qualify is decided in one place, ``fraiseql.db.errors.retryable_read_reason``. The
circuit breaker hears a read's failure only when it is not retried
(``fraiseql.db.breaker.verdict_after_retries``): a lost attempt is not an outage.

Writes never come here: mutations have their own retries, made safe by idempotency keys
(``fraiseql.mutations.retry``).

Example::

    retry = ReadRetry(attempts=2, budget_s=1.0)
    rows = await retry.run(lambda: db.fetch_rows(query, params))
    retry.retries   # how many retries ran, for /_chaos/stats
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from fraiseql import telemetry
from fraiseql.db.breaker import verdict_after_retries
from fraiseql.db.errors import retryable_read_reason
from fraiseql.errors import DatabaseError

T = TypeVar("T")


class ReadRetry:
    """A retry policy for reads, with counters (one per database)."""

    def __init__(
        self,
        attempts: int = 2,
        budget_s: float = 1.0,
        backoff_s: float = 0.05,
        *,
        cap_s: float = 0.5,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.attempts = attempts
        self.budget_s = budget_s
        self.backoff_s = backoff_s
        self.cap_s = cap_s
        self._rng = rng or random.Random()
        self._clock = clock
        self.retries = 0  # retries run
        self.gave_up = 0  # retryable failures raised because attempts or budget ran out

    async def run(self, operation: Callable[[], Awaitable[T]]) -> T:
        """``operation()``, repeated after retryable failures (see the module docstring)."""
        started = self._clock()
        attempt = 0
        while True:
            with verdict_after_retries() as settle:
                try:
                    return await operation()
                except DatabaseError as exc:
                    reason = retryable_read_reason(exc)
                    if reason is None:
                        raise
                    delay_s = self._rng.uniform(0.0, min(self.cap_s, self.backoff_s * 2**attempt))
                    if attempt >= self.attempts or self._clock() - started + delay_s > self.budget_s:
                        self.gave_up += 1
                        raise
                    settle(retrying=True)  # this attempt's failure is not the database's verdict
                    attempt += 1
                    self.retries += 1
                    telemetry.record_read_retry(reason)
            await asyncio.sleep(delay_s)

    def snapshot(self) -> dict[str, int]:
        return {"retries": self.retries, "gave_up": self.gave_up}
