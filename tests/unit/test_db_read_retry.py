"""ReadRetry and the one place that says which failed reads may run again."""

from __future__ import annotations

import random

import psycopg
import psycopg_pool
import pytest

from fraiseql.db.errors import retryable_read_reason, translate
from fraiseql.db.read_retry import ReadRetry
from fraiseql.errors import CircuitOpenError, DatabaseError

RETRYABLE = [
    (psycopg.errors.SerializationFailure("40001"), "transient"),
    (psycopg.errors.DeadlockDetected("40P01"), "transient"),
    (psycopg.errors.AdminShutdown("57P01"), "connection"),
    (psycopg.errors.TooManyConnections("53300"), "connection"),
    (psycopg.OperationalError("server closed the connection unexpectedly"), "connection"),
    (ConnectionRefusedError("refused"), "connection"),
]
NOT_RETRYABLE = [
    psycopg_pool.PoolTimeout("couldn't get a connection after 5.00 sec"),
    psycopg_pool.PoolClosed("the pool is closed"),
    psycopg_pool.TooManyRequests("the pool has 10 requests waiting"),
    psycopg.errors.QueryCanceled("57014"),
    psycopg.errors.UniqueViolation("23505"),
    psycopg.errors.UndefinedTable("42P01"),
]


@pytest.mark.parametrize(("raised", "reason"), RETRYABLE, ids=lambda v: type(v).__name__)
def test_transient_and_connection_failures_are_retryable(raised: Exception, reason: str) -> None:
    assert retryable_read_reason(translate(raised)) == reason


@pytest.mark.parametrize("raised", NOT_RETRYABLE, ids=lambda v: type(v).__name__)
def test_pool_waits_timeouts_and_real_errors_are_not(raised: Exception) -> None:
    assert retryable_read_reason(translate(raised)) is None


def test_an_open_circuit_is_not_retried() -> None:
    assert retryable_read_reason(CircuitOpenError(1)) is None


class Flaky:
    """Fails with ``errors`` in turn, then answers."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise translate(self.errors.pop(0))
        return "rows"


def policy(**kwargs: object) -> ReadRetry:
    return ReadRetry(**{"backoff_s": 0.001, "rng": random.Random(1), **kwargs})  # type: ignore[arg-type]


async def test_retries_until_it_answers_within_the_attempts() -> None:
    retry = policy(attempts=2)
    flaky = Flaky(psycopg.errors.AdminShutdown("x"), psycopg.errors.SerializationFailure("y"))
    assert await retry.run(flaky) == "rows"
    assert flaky.calls == 3 and retry.retries == 2 and retry.gave_up == 0


async def test_gives_up_after_the_attempts_with_the_last_error() -> None:
    retry = policy(attempts=1)
    flaky = Flaky(psycopg.errors.AdminShutdown("a"), psycopg.errors.AdminShutdown("b"))
    with pytest.raises(DatabaseError):
        await retry.run(flaky)
    assert flaky.calls == 2 and retry.retries == 1 and retry.gave_up == 1


class LongestWait(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return b


async def test_gives_up_when_the_next_wait_would_pass_the_budget() -> None:
    now = [0.0]
    retry = ReadRetry(attempts=5, budget_s=1.0, backoff_s=0.01, rng=LongestWait(), clock=lambda: now[0])
    calls = []

    async def slow_failure() -> str:
        calls.append(1)
        now[0] += 0.995  # the attempt itself took most of the budget
        raise translate(psycopg.errors.AdminShutdown("a"))

    with pytest.raises(DatabaseError):
        await retry.run(slow_failure)
    assert len(calls) == 1 and retry.gave_up == 1


async def test_a_non_retryable_failure_is_raised_at_once() -> None:
    retry = policy(attempts=3)
    flaky = Flaky(psycopg.errors.UniqueViolation("23505"))
    with pytest.raises(DatabaseError):
        await retry.run(flaky)
    assert flaky.calls == 1 and retry.retries == 0 and retry.gave_up == 0


def _attempt_against(breaker, outcomes: list[bool]):
    """An operation that, like Database.connection, reports each attempt to the breaker."""
    async def operation() -> str:
        breaker.before_call()
        if outcomes.pop(0):
            breaker.record_success()
            return "rows"
        error = translate(psycopg.OperationalError("server closed the connection unexpectedly"))
        breaker.record(error)
        raise error

    return operation


async def test_a_read_saved_by_a_retry_is_no_failure_for_the_breaker() -> None:
    """Regression: each lost attempt counted, so a link losing one attempt in three opened
    the circuit and every request failed instead of a few."""
    from fraiseql.db.breaker import BreakerState, CircuitBreaker

    breaker = CircuitBreaker(failure_threshold=2, reset_s=60)
    retry = ReadRetry(attempts=2, budget_s=5, backoff_s=0.0)
    for _ in range(5):  # first attempt lost, second answers: five times over
        assert await retry.run(_attempt_against(breaker, [False, True])) == "rows"
    assert breaker.state is BreakerState.CLOSED and breaker.consecutive_failures == 0


async def test_a_read_that_gives_up_counts_once() -> None:
    from fraiseql.db.breaker import BreakerState, CircuitBreaker
    from fraiseql.errors import DatabaseUnavailable

    breaker = CircuitBreaker(failure_threshold=2, reset_s=60)
    retry = ReadRetry(attempts=2, budget_s=5, backoff_s=0.0)
    with pytest.raises(DatabaseUnavailable):
        await retry.run(_attempt_against(breaker, [False, False, False]))
    assert breaker.consecutive_failures == 1 and breaker.state is BreakerState.CLOSED
    with pytest.raises(DatabaseUnavailable):  # a second read lost the same way: an outage
        await retry.run(_attempt_against(breaker, [False, False, False]))
    assert breaker.state is BreakerState.OPEN
