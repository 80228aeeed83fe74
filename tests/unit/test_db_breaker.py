"""CircuitBreaker: closed -> open after N consecutive failures -> half-open trial -> closed."""

from __future__ import annotations

import pytest

from fraiseql.db.breaker import BreakerState, CircuitBreaker
from fraiseql.errors import (
    CircuitOpenError,
    DatabaseError,
    DatabaseTimeout,
    DatabaseUnavailable,
    TransientDatabaseError,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make(clock: FakeClock, threshold: int = 3, reset_s: float = 2.0) -> CircuitBreaker:
    return CircuitBreaker(threshold, reset_s, clock=clock)


def fail(breaker: CircuitBreaker, times: int = 1, error: Exception | None = None) -> None:
    for _ in range(times):
        breaker.before_call()
        breaker.record(error or DatabaseUnavailable("down"))


def test_opens_after_the_threshold_of_consecutive_failures(clock: FakeClock) -> None:
    breaker = make(clock)
    fail(breaker, 2)
    assert breaker.state is BreakerState.CLOSED
    fail(breaker, 1, DatabaseTimeout("slow"))
    assert breaker.state is BreakerState.OPEN and breaker.opened == 1


def test_any_answer_from_the_server_resets_the_count(clock: FakeClock) -> None:
    breaker = make(clock)
    for answered in (TransientDatabaseError("40001"), DatabaseError("syntax"), None):
        fail(breaker, 2)
        breaker.before_call()
        if answered is None:
            breaker.record_success()
        else:
            breaker.record(answered)
        assert breaker.consecutive_failures == 0
    assert breaker.state is BreakerState.CLOSED


def test_open_fails_fast_with_the_time_left_as_retry_after(clock: FakeClock) -> None:
    breaker = make(clock, reset_s=2.0)
    fail(breaker, 3)
    clock.now += 0.5
    with pytest.raises(CircuitOpenError) as caught:
        breaker.before_call()
    assert caught.value.retry_after_s == 2  # 1.5 s left, rounded up
    extensions = caught.value.to_graphql()["extensions"]
    assert extensions == {"code": "DATABASE_UNAVAILABLE", "circuit": "open", "retryAfterS": 2}
    assert breaker.rejected == 1


def test_half_open_lets_one_trial_through_and_its_success_closes(clock: FakeClock) -> None:
    breaker = make(clock)
    fail(breaker, 3)
    clock.now += 2.0
    breaker.before_call()  # the trial
    assert breaker.state is BreakerState.HALF_OPEN
    with pytest.raises(CircuitOpenError):
        breaker.before_call()  # everyone else still fails fast
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED and breaker.closed == 1
    breaker.before_call()


def test_a_failed_trial_opens_the_circuit_for_another_reset_period(clock: FakeClock) -> None:
    breaker = make(clock)
    fail(breaker, 3)
    clock.now += 2.0
    fail(breaker, 1)
    assert breaker.state is BreakerState.OPEN and breaker.opened == 2
    clock.now += 1.0
    with pytest.raises(CircuitOpenError):
        breaker.before_call()


def test_a_cancelled_trial_lets_the_next_call_try(clock: FakeClock) -> None:
    breaker = make(clock)
    fail(breaker, 3)
    clock.now += 2.0
    breaker.before_call()
    breaker.release()
    breaker.before_call()  # not rejected: the slot is free again
    assert breaker.state is BreakerState.HALF_OPEN


def test_a_late_success_does_not_close_an_open_circuit(clock: FakeClock) -> None:
    breaker = make(clock)
    fail(breaker, 3)
    breaker.record_success()  # a call that started before the circuit opened
    assert breaker.state is BreakerState.OPEN


def test_an_open_circuit_is_not_itself_a_failure(clock: FakeClock) -> None:
    breaker = make(clock, threshold=1)
    breaker.record(CircuitOpenError(1))
    assert breaker.state is BreakerState.CLOSED


def test_snapshot_names_state_and_transition_counts(clock: FakeClock) -> None:
    breaker = make(clock, threshold=1)
    fail(breaker)
    snapshot = breaker.snapshot()
    assert snapshot["state"] == "open" and snapshot["opened"] == 1 and snapshot["closed"] == 0
    assert snapshot["retry_after_s"] == 2.0


def test_listeners_hear_every_state_entered_and_one_that_raises_breaks_nothing(clock: FakeClock) -> None:
    breaker = make(clock, threshold=1, reset_s=2.0)
    heard: list[BreakerState] = []

    def broken(state: BreakerState) -> None:
        raise RuntimeError("listener bug")

    breaker.listen(broken)
    breaker.listen(heard.append)
    fail(breaker)
    assert breaker.opened == 1 and heard == [BreakerState.OPEN]
    clock.now += 2.0
    breaker.before_call()
    breaker.record_success()
    assert heard == [BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.CLOSED]
    assert breaker.state is BreakerState.CLOSED and breaker.closed == 1
