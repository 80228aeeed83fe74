"""The load generator against the real blog app over real HTTP: locust in its own process."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from chaos.integrity import check_integrity
from chaos.load import FIELDS, LoadError, LoadOptions, LoadProcess, read_log
from chaos.load.operations import WRITES, title_for
from examples.blog.database import init_database
from fraiseql.db.local import LocalPostgres

_spec = importlib.util.spec_from_file_location(
    "_integration_conftest", Path(__file__).parents[1] / "integration" / "conftest.py")
_integration = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
sys.modules[_spec.name] = _integration
_spec.loader.exec_module(_integration)  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def load_database_url(pg_cluster: LocalPostgres) -> str:
    url = pg_cluster.create_database(f"chaos_load_{os.getpid()}")
    asyncio.run(init_database(url, rows=40, progress=None))
    return url


@pytest.fixture(scope="module")
def app_url(load_database_url: str) -> Iterator[str]:
    from examples.blog import app as blog_app

    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = load_database_url  # read by the app when it starts
    try:
        yield from (server.url for server in _integration.serve_in_thread(blog_app.app))
    finally:
        if previous is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = previous


def _options(app_url: str, log_path: Path, **changes: object) -> LoadOptions:
    values: dict[str, object] = {
        "app_url": app_url, "users": 2, "rate_per_s": 8.0, "duration_s": 4, "seed": 3,
        "mix": {"read_posts": 2, "read_post": 1, "read_connection": 1, "create_post": 3,
                "update_post": 1, "add_comment": 1},
        "log_path": log_path}
    return LoadOptions(**{**values, **changes})  # type: ignore[arg-type]


@pytest.mark.chaos
@pytest.mark.integration
def test_a_short_run_logs_every_request_with_acknowledged_writes(
        app_url: str, load_database_url: str, tmp_path: Path) -> None:
    log_path = tmp_path / "requests.jsonl"
    with LoadProcess(_options(app_url, log_path)) as load:
        assert load.wait() == 0, load.output()
    records, offset = read_log(log_path, 0)
    assert offset == log_path.stat().st_size
    assert len(records) >= 5, load.output()
    for record in records:
        assert set(record) == set(FIELDS)
        assert record["write"] == (record["op"] in WRITES)
    assert {r["status"] for r in records} == {200}, [r for r in records if r["status"] != 200][:3]
    assert all(r["codes"] == [] for r in records), [r for r in records if r["codes"]][:3]
    created = [r for r in records if r["op"] == "create_post"]
    assert created and all(r["idempotency_key"] and r["ack_id"] for r in created)
    with psycopg.connect(load_database_url) as conn:
        for record in created:
            row = conn.execute("SELECT title FROM tb_post WHERE id = %s", [record["ack_id"]]).fetchone()
            assert row == (title_for(record["idempotency_key"]),)
    result = check_integrity(records, load_database_url)
    assert (result.acknowledged, result.lost, result.duplicated) == (len(created), 0, 0), result.summary()


@pytest.mark.chaos
@pytest.mark.integration
def test_stopping_early_ends_locust_and_leaves_whole_lines(app_url: str, tmp_path: Path) -> None:
    log_path = tmp_path / "requests.jsonl"
    load = LoadProcess(_options(app_url, log_path, duration_s=120, mix={"read_posts": 1})).start()
    try:
        for _ in range(200):  # bounded: until the first requests are logged
            records, _ = read_log(log_path, 0)
            if records:
                break
            time.sleep(0.05)
    finally:
        load.stop()
    assert not load.running
    records, offset = read_log(log_path, 0)
    assert records and offset == log_path.stat().st_size


def test_a_non_loopback_target_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="not a loopback address"):
        _options("http://192.0.2.10:8000", tmp_path / "log.jsonl")
    with pytest.raises(LoadError, match="unknown operations in the mix: delete_everything"):
        _options("http://127.0.0.1:8000", tmp_path / "log.jsonl", mix={"delete_everything": 1})


def test_read_log_tails_complete_lines_only(tmp_path: Path) -> None:
    log_path = tmp_path / "requests.jsonl"
    assert read_log(log_path, 0) == ([], 0)
    log_path.write_bytes(b'{"op": "read_posts"}\n{"op": "me"')
    records, offset = read_log(log_path, 0)
    assert records == [{"op": "read_posts"}] and offset == 21
    with open(log_path, "ab") as log:
        log.write(b'}\n')
    assert read_log(log_path, offset) == ([{"op": "me"}], log_path.stat().st_size)
