"""Run a mutation: one PostgreSQL function call in one transaction, at most once per key.

The function has the shape ``fn(input jsonb) returns jsonb`` and answers
``{"status": "success" | <error status>, "message": ..., "object": ..., "code"?: ...}``.

With an idempotency key the transaction first takes ``pg_advisory_xact_lock`` on the
(function, key) pair, then looks the key up in ``fraiseql.idempotency``: a stored result
is returned as is; otherwise the function runs and its result is stored in the same
transaction. Concurrent calls with one key therefore serialise on the lock and all see
the first result, and a retry after a lost connection cannot write twice.

Example::

    result = await run_mutation(
        db, function="fn_create_post",
        input={"title": "Hello", "body": "...", "author_id": author_id},
        context=RequestContext(user_id=author_id), idempotency_key="a1b2c3",
    )
    result["status"]  # "success"
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from psycopg import sql

from fraiseql import telemetry
from fraiseql.context import RequestContext
from fraiseql.db.breaker import verdict_after_retries
from fraiseql.db.pool import Database, execute
from fraiseql.errors import MutationError
from fraiseql.mutations import idempotency
from fraiseql.mutations.retry import Backoff, Verdict, judge

# An unquoted PostgreSQL identifier, optionally schema-qualified (63 bytes a part).
_FUNCTION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?")

_DEFAULT_BACKOFF = Backoff()

MAX_KEY_LENGTH = 255


def function_call(function: str) -> sql.Composed:
    """``SELECT <function>(%s::jsonb)::text`` with the name quoted as identifiers.

    Raises ``MutationError`` (``INVALID_MUTATION_FUNCTION``) for anything but a plain
    or schema-qualified identifier, so a name can never carry SQL.
    """
    if not _FUNCTION_NAME.fullmatch(function):
        raise MutationError(
            f"invalid mutation function name {function!r}: expected name or schema.name",
            "INVALID_MUTATION_FUNCTION",
        )
    name = sql.Identifier(*function.split("."))
    return sql.SQL("SELECT {}(%s::jsonb)::text").format(name)


async def run_mutation(
    db: Database,
    *,
    function: str,
    input: dict[str, Any],
    context: RequestContext | None = None,
    idempotency_key: str | None = None,
    retries: int = 3,
    backoff: Backoff = _DEFAULT_BACKOFF,
) -> dict[str, Any]:
    """Call ``function(input)`` and return its result dict (see the module docstring).

    ``retries`` is how many times an attempt may be repeated after a serialization
    failure, a deadlock or a lost connection (see ``fraiseql.mutations.retry``).
    The idempotency key is scoped to the context's user and tenant and is not passed
    to the function. Raises ``MutationError`` with
    ``IDEMPOTENCY_KEY_REUSED`` when the key was already used with a different input,
    ``MUTATION_OUTCOME_UNKNOWN`` when the connection died during COMMIT without a key,
    and the translated ``DatabaseError`` otherwise.
    """
    call = function_call(function)
    if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_KEY_LENGTH:
        raise MutationError(
            f"an idempotency key must have 1 to {MAX_KEY_LENGTH} characters",
            "INVALID_IDEMPOTENCY_KEY",
            status=400,
        )
    payload_json = idempotency.canonical_input(input)
    key = None if idempotency_key is None else idempotency.scoped_key(idempotency_key, context)
    attributes = {"db.system": "postgresql", "fraiseql.mutation.function": function}
    with telemetry.span("fraiseql.mutation", attributes) as span:
        attempt = 0
        while True:
            if span is not None:
                span.set_attribute("fraiseql.mutation.attempts", attempt + 1)
            state = _Attempt()
            # The breaker hears an attempt's failure only if no retry follows it.
            with verdict_after_retries() as settle:
                try:
                    return await _attempt(db, call, function, payload_json, context, key, state)
                except MutationError:
                    raise
                except Exception as exc:
                    verdict = judge(exc, committing=state.committing, has_key=key is not None)
                    if verdict is Verdict.OUTCOME_UNKNOWN:
                        telemetry.record_error("MUTATION_OUTCOME_UNKNOWN")
                        raise MutationError(
                            "The connection to the database was lost while committing; the "
                            "mutation may or may not have been applied (send an idempotency key "
                            "to retry safely)",
                            "MUTATION_OUTCOME_UNKNOWN",
                        ) from exc
                    if verdict is Verdict.RAISE or attempt >= retries:
                        raise
                    settle(retrying=True)
            await asyncio.sleep(backoff.delay_s(attempt))
            attempt += 1


class _Attempt:
    """What one attempt got to: ``committing`` once only COMMIT is left to do."""

    __slots__ = ("committing",)

    def __init__(self) -> None:
        self.committing = False


async def _attempt(
    db: Database,
    call: sql.Composed,
    function: str,
    payload_json: str,
    context: RequestContext | None,
    key: str | None,
    state: _Attempt,
) -> dict[str, Any]:
    async with db.transaction(context=context) as conn:
        if key is None:
            result_json = await _call(conn, call, payload_json)
        else:
            result_json = await _call_once(conn, call, function, payload_json, key)
        state.committing = True
    return _decode(function, result_json)


async def _call(conn: Any, call: sql.Composed, payload_json: str) -> str:
    rows = await execute(conn, call, [payload_json])
    result_json = rows[0][0] if rows else None
    if result_json is None:
        raise MutationError("The mutation function returned NULL", "INVALID_MUTATION_RESULT")
    return result_json


async def _call_once(conn: Any, call: sql.Composed, function: str, payload_json: str, key: str) -> str:
    fingerprint = idempotency.fingerprint(payload_json)
    await idempotency.lock(conn, function, key)
    stored = await idempotency.lookup(conn, function, key)
    if stored is not None:
        stored_fingerprint, result = stored
        if stored_fingerprint != fingerprint:
            raise MutationError(
                "This idempotency key was already used with a different input",
                "IDEMPOTENCY_KEY_REUSED",
                status=422,
            )
        return json.dumps(result)
    result_json = await _call(conn, call, payload_json)
    await idempotency.store(conn, function, key, fingerprint, result_json)
    return result_json


def _decode(function: str, result_json: str) -> dict[str, Any]:
    result = json.loads(result_json)
    if not isinstance(result, dict) or "status" not in result:
        raise MutationError(
            f"{function} returned {type(result).__name__} without a status; "
            "a mutation function must return a JSON object with a status",
            "INVALID_MUTATION_RESULT",
        )
    return result
