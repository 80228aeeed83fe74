"""The pure parts of the mutation runner: names, canonical inputs, lock ids, retry verdicts."""

from __future__ import annotations

import datetime
import decimal
import enum
import random
import uuid

import psycopg
import psycopg_pool
import pytest

from fraiseql.db.errors import translate
from fraiseql.errors import DatabaseError, DatabaseTimeout, MutationError
from fraiseql.context import RequestContext
from fraiseql.mutations.idempotency import advisory_lock_id, canonical_input, fingerprint, scoped_key
from fraiseql.mutations.retry import Backoff, Verdict, judge
from fraiseql.mutations.runner import function_call, run_mutation

VALID_NAMES = ["fn_create_post", "blog.fn_create_post", "_f", "F1", "a" * 63]
INVALID_NAMES = [
    "", "1fn", "fn-create", "fn create", "fn;drop table x", "a.b.c", "fn()", '"fn"',
    "schema.", ".fn", "a" * 64, "fn\n",
]


@pytest.mark.parametrize("name", VALID_NAMES)
def test_valid_function_names_become_quoted_identifiers(name: str) -> None:
    text = function_call(name).as_string(None)
    quoted = ".".join(f'"{part}"' for part in name.split("."))
    assert text == f"SELECT {quoted}(%s::jsonb)::text"


@pytest.mark.parametrize("name", INVALID_NAMES)
def test_invalid_function_names_are_refused(name: str) -> None:
    with pytest.raises(MutationError) as caught:
        function_call(name)
    assert caught.value.code == "INVALID_MUTATION_FUNCTION"


class Color(enum.Enum):
    RED = "red"


def test_canonical_input_sorts_keys_drops_the_key_and_encodes_scalars() -> None:
    text = canonical_input({
        "b": decimal.Decimal("1.50"),
        "a": uuid.UUID(int=1),
        "when": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
        "day": datetime.date(2024, 1, 2),
        "color": Color.RED,
        "idempotency_key": "k",
    })
    assert text == (
        '{"a":"00000000-0000-0000-0000-000000000001","b":"1.50","color":"RED",'
        '"day":"2024-01-02","when":"2024-01-02T03:04:05+00:00"}'
    )


def test_canonical_input_refuses_unknown_objects() -> None:
    with pytest.raises(TypeError):
        canonical_input({"x": object()})


def test_fingerprint_ignores_key_order_and_the_key_itself() -> None:
    one = fingerprint(canonical_input({"a": 1, "b": [1, 2], "idempotency_key": "x"}))
    two = fingerprint(canonical_input({"b": [1, 2], "a": 1, "idempotency_key": "y"}))
    assert one == two
    assert one != fingerprint(canonical_input({"a": 1, "b": [2, 1]}))


def test_advisory_lock_ids_are_stable_signed_64_bit_and_separate_functions() -> None:
    lock_id = advisory_lock_id("fn_a", "k")
    assert lock_id == advisory_lock_id("fn_a", "k")
    assert -(2**63) <= lock_id < 2**63
    assert lock_id != advisory_lock_id("fn_b", "k")
    # The separator keeps ("fn_a", "bk") apart from ("fn_ab", "k").
    assert advisory_lock_id("fn_a", "bk") != advisory_lock_id("fn_ab", "k")


def test_keys_are_scoped_by_user_and_tenant_only() -> None:
    assert scoped_key("k", None) == scoped_key("k", RequestContext()) == "k"
    alice = scoped_key("k", RequestContext(user_id="alice"))
    assert alice != scoped_key("k", RequestContext(user_id="bob"))
    assert alice != scoped_key("k", RequestContext(user_id="alice", tenant_id="t1"))
    assert alice == scoped_key("k", RequestContext(user_id="alice", statement_timeout_ms=5))


def _translated(exc: Exception) -> DatabaseError:
    return translate(exc)


SERIALIZATION = psycopg.errors.SerializationFailure("x")
DEADLOCK = psycopg.errors.DeadlockDetected("x")
LOST = psycopg.OperationalError("server closed the connection unexpectedly")
SHUTDOWN = psycopg.errors.AdminShutdown("terminating connection due to administrator command")


@pytest.mark.parametrize("raw", [SERIALIZATION, DEADLOCK], ids=["40001", "40P01"])
@pytest.mark.parametrize("committing", [False, True])
@pytest.mark.parametrize("has_key", [False, True])
def test_aborted_transactions_are_always_retried(raw: Exception, committing: bool, has_key: bool) -> None:
    assert judge(_translated(raw), committing=committing, has_key=has_key) is Verdict.RETRY


@pytest.mark.parametrize("raw", [LOST, SHUTDOWN], ids=["closed", "57P01"])
def test_lost_connection_verdicts(raw: Exception) -> None:
    error = _translated(raw)
    assert judge(error, committing=False, has_key=False) is Verdict.RETRY
    assert judge(error, committing=False, has_key=True) is Verdict.RETRY
    assert judge(error, committing=True, has_key=True) is Verdict.RETRY
    assert judge(error, committing=True, has_key=False) is Verdict.OUTCOME_UNKNOWN


@pytest.mark.parametrize(
    "error",
    [
        _translated(psycopg_pool.PoolTimeout("pool wait")),
        _translated(psycopg.errors.UniqueViolation("dup")),
        DatabaseTimeout("slow"),
        ValueError("not a database error"),
    ],
    ids=["pool-timeout", "unique-violation", "statement-timeout", "other"],
)
def test_other_failures_are_raised(error: Exception) -> None:
    assert judge(error, committing=False, has_key=True) is Verdict.RAISE


def test_backoff_is_jittered_exponential_and_capped() -> None:
    backoff = Backoff(base_s=0.01, cap_s=0.05, rng=random.Random(7))
    for attempt in range(8):
        delays = [backoff.delay_s(attempt) for _ in range(50)]
        bound = min(0.05, 0.01 * 2**attempt)
        assert all(0.0 <= delay <= bound for delay in delays)
        assert len(set(delays)) > 1


@pytest.mark.parametrize("key", ["", "k" * 256], ids=["empty", "too-long"])
async def test_bad_idempotency_keys_are_refused_before_any_database_work(key: str) -> None:
    with pytest.raises(MutationError) as caught:
        await run_mutation(None, function="fn_x", input={}, idempotency_key=key)  # type: ignore[arg-type]
    assert caught.value.code == "INVALID_IDEMPOTENCY_KEY"
