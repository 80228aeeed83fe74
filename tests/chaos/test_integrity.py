"""The integrity check against real rows of the blog database."""

from __future__ import annotations

import asyncio
import itertools
import os
import uuid
from typing import Any

import psycopg
import pytest

from chaos.integrity import build_ledger, check_integrity
from chaos.load.operations import title_for
from examples.blog.database import init_database
from fraiseql.db.local import LocalPostgres

pytestmark = pytest.mark.integration

_names = itertools.count(1)


@pytest.fixture
def blog_url(pg_cluster: LocalPostgres) -> str:
    url = pg_cluster.create_database(f"chaos_integrity_{os.getpid()}_{next(_names)}")
    asyncio.run(init_database(url, rows=5, progress=None))
    return url


def _insert(url: str, key: str) -> str:
    """A post written the way create_post writes it (title "chaos <key>"); its id."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "INSERT INTO tb_post (author_id, title, body) "
            "SELECT id, %s, 'body' FROM tb_user ORDER BY id LIMIT 1 RETURNING id::text",
            [title_for(key)]).fetchone()
    assert row is not None
    return row[0]


def _record(key: str, ack_id: str | None, status: int | None = 200, attempt: int = 1) -> dict[str, Any]:
    return {"t": 0.0, "op": "create_post", "latency_ms": 1.0, "status": status, "codes": [],
            "error": None if ack_id else "no response", "idempotency_key": key, "ack_id": ack_id,
            "write": True, "attempt": attempt}


def test_every_acknowledged_write_present_is_clean(blog_url: str) -> None:
    keys = [str(uuid.uuid4()) for _ in range(3)]
    records = [_record(key, _insert(blog_url, key)) for key in keys]
    result = check_integrity(records, blog_url)
    assert (result.acknowledged, result.lost, result.duplicated) == (3, 0, 0)
    assert result.holds() and "3 acknowledged writes: 0 lost, 0 duplicated" in result.summary()


def test_a_deleted_acknowledged_row_is_lost(blog_url: str) -> None:
    kept, deleted = str(uuid.uuid4()), str(uuid.uuid4())
    records = [_record(kept, _insert(blog_url, kept)), _record(deleted, _insert(blog_url, deleted))]
    with psycopg.connect(blog_url) as conn:
        conn.execute("DELETE FROM tb_post WHERE title = %s", [title_for(deleted)])
    result = check_integrity(records, blog_url)
    assert (result.acknowledged, result.lost, result.lost_keys) == (2, 1, (deleted,))
    assert not result.holds() and deleted in result.summary()
    assert result.holds(max_lost=1)


def test_two_rows_for_one_key_are_duplicated(blog_url: str) -> None:
    key = str(uuid.uuid4())
    first = _insert(blog_url, key)
    _insert(blog_url, key)  # a retry that wrote a second time
    records = [_record(key, None, status=None), _record(key, first, attempt=2)]
    result = check_integrity(records, blog_url)
    assert (result.acknowledged, result.lost, result.duplicated, result.duplicated_keys) == (1, 0, 1, (key,))
    assert not result.holds()


def test_unknown_outcomes_are_counted_as_landed_or_not(blog_url: str) -> None:
    landed, not_landed = str(uuid.uuid4()), str(uuid.uuid4())
    _insert(blog_url, landed)
    records = [_record(landed, None, status=None), _record(landed, None, status=503, attempt=2),
               _record(not_landed, None, status=None)]
    result = check_integrity(records, blog_url)
    assert (result.acknowledged, result.unknown_landed, result.unknown_not_landed) == (0, 1, 1)
    assert result.holds()
    assert "2 of unknown outcome (1 landed, 1 not)" in result.summary()


def test_the_ledger_ignores_reads_and_other_writes() -> None:
    records = [_record("k", "id-1"), {"op": "read_posts", "idempotency_key": None},
               {"op": "update_post", "idempotency_key": "u", "ack_id": "p"}]
    ledger = build_ledger(records)
    assert list(ledger) == ["k"] and ledger["k"].ack_ids == {"id-1"} and ledger["k"].attempts == 1
    assert check_integrity([], "postgresql://unused.invalid/db").acknowledged == 0
