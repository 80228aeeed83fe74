"""Idempotency keys: the advisory lock, the stored first result, and input fingerprints.

Every statement here runs on the caller's connection inside the mutation's own
transaction, so the stored result commits (or rolls back) together with the write.

Example::

    lock_id = advisory_lock_id("fn_create_post", "client-key-1")   # signed 64-bit
    text = canonical_input({"title": "Hello", "idempotency_key": "k"})  # '{"title":"Hello"}'
    digest = fingerprint(text)                                     # sha256 hex
"""

from __future__ import annotations

import datetime
import decimal
import enum
import hashlib
import json
import uuid
from typing import Any

import psycopg

from fraiseql.context import RequestContext
from fraiseql.db.pool import execute
from fraiseql.db.runtime_schema import IDEMPOTENCY_RETENTION

# The input key that carries the idempotency key itself; it is transport, not payload.
KEY_FIELD = "idempotency_key"

_LOCK = "SELECT pg_advisory_xact_lock(%s)"
_LOOKUP = (
    "SELECT input_hash, result FROM fraiseql.idempotency"
    " WHERE mutation = %s AND key = %s AND created_at >= now() - %s"
)
# An expired row for the same key is replaced: the key is free again after retention.
_STORE = (
    "INSERT INTO fraiseql.idempotency (mutation, key, input_hash, result)"
    " VALUES (%s, %s, %s, %s::jsonb)"
    " ON CONFLICT (mutation, key) DO UPDATE"
    " SET input_hash = EXCLUDED.input_hash, result = EXCLUDED.result, created_at = now()"
)


def _default(value: Any) -> Any:
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.name  # GraphQL enum values are member names, as the views store them
    raise TypeError(f"cannot encode {type(value).__name__} as JSON for a mutation input")


def canonical_input(payload: dict[str, Any]) -> str:
    """The input as canonical JSON (sorted keys, no whitespace), without its key field.

    This text is both what the function receives and what the fingerprint covers.
    """
    body = {name: value for name, value in payload.items() if name != KEY_FIELD}
    return json.dumps(body, default=_default, sort_keys=True, separators=(",", ":"))


def fingerprint(input_json: str) -> str:
    """sha256 of the canonical input: a reused key with another input is detected."""
    return hashlib.sha256(input_json.encode()).hexdigest()


def scoped_key(key: str, context: RequestContext | None) -> str:
    """The key as stored: scoped to the caller's user and tenant.

    Two users who happen to send the same key never see each other's results.
    """
    if context is None or (context.user_id is None and context.tenant_id is None):
        return key
    return f"u={context.user_id or ''};t={context.tenant_id or ''};{key}"


def advisory_lock_id(function: str, key: str) -> int:
    """The signed 64-bit advisory lock id for one (function, key) pair."""
    digest = hashlib.blake2b(f"{function}\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


async def lock(conn: psycopg.AsyncConnection[Any], function: str, key: str) -> None:
    """Wait until no other transaction holds this (function, key); held until commit."""
    await execute(conn, _LOCK, [advisory_lock_id(function, key)])


async def lookup(
    conn: psycopg.AsyncConnection[Any],
    function: str,
    key: str,
    retention: datetime.timedelta = IDEMPOTENCY_RETENTION,
) -> tuple[str, dict[str, Any]] | None:
    """The (input fingerprint, result) stored for this key, unless expired."""
    rows = await execute(conn, _LOOKUP, [function, key, retention])
    if not rows:
        return None
    fingerprint, result = rows[0]
    return fingerprint, result


async def store(
    conn: psycopg.AsyncConnection[Any],
    function: str,
    key: str,
    fingerprint: str,
    result_json: str,
) -> None:
    """Record the result of the call made under this key (same transaction)."""
    await execute(conn, _STORE, [function, key, fingerprint, result_json])
