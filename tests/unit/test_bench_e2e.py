"""Helpers of benchmarks/e2e: query bodies per server, answer comparison, wrk's Lua."""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "e2e"))

from load import lua_string, wrk_script  # noqa: E402
from queries import OPERATIONS, SERVERS, differences, normalise  # noqa: E402
from report import START, END, write_results  # noqa: E402

IDS = {"post_id": "00000000-0000-0000-0000-000000000001", "author_id": "00000000-0000-0000-0000-000000000002"}


def test_every_operation_has_a_document_for_every_server() -> None:
    for op in OPERATIONS.values():
        for server in SERVERS:
            payload = json.loads(op.body(server, IDS))
            assert payload["query"] == op.documents[server]
    assert json.loads(OPERATIONS["create_post"].body("postgraphile", IDS))["variables"]["input"]["post"]["authorId"] == IDS["author_id"]
    assert json.loads(OPERATIONS["post_by_id"].body("strawberry", IDS))["variables"] == {"id": IDS["post_id"]}


def test_timestamps_compare_equal_whatever_their_spelling() -> None:
    fraiseql = normalise({"publishedAt": "2024-02-12T16:06:00.000000+00:00", "n": 1})
    strawberry = normalise({"publishedAt": "2024-02-12T16:06:00+00:00", "n": 1})
    postgraphile = normalise({"publishedAt": "2024-02-12T17:06:00+01:00", "n": 1})
    assert fraiseql == strawberry == postgraphile
    assert fraiseql["publishedAt"] == datetime.datetime(2024, 2, 12, 16, 6, tzinfo=datetime.timezone.utc)
    assert normalise("2024-02-12 is not a timestamp") == "2024-02-12 is not a timestamp"


def test_differences_name_the_place() -> None:
    assert differences([{"a": 1}], [{"a": 1}]) == []
    assert differences([{"a": 1}], [{"a": 2}]) == ["$[0].a: 1 != 2"]
    assert differences([1, 2], [1]) == ["$: 2 items against 1"]
    assert differences({"a": 1}, {}) == ["$.a: 1 != '<missing>'"]


def test_lua_strings_keep_quotes_backslashes_and_newlines() -> None:
    body = '{"query":"mutation {\\n a(b: \\"c\\") }"}\nsecond line'
    literal = lua_string(body)
    assert literal.startswith('"') and "\n" not in literal
    script = wrk_script(body.encode(), Path("/tmp/out.json"))
    assert 'wrk.method = "POST"' in script and '"/tmp/out.json"' in script


def test_only_the_e2e_section_is_replaced(tmp_path, monkeypatch) -> None:
    import report

    results = tmp_path / "RESULTS.md"
    results.write_text(f"# Benchmark results\n\n<!-- other:start -->\nkeep\n<!-- other:end -->\n")
    monkeypatch.setattr(report, "RESULTS", results)
    write_results("first\n")
    write_results("second\n")
    text = results.read_text()
    assert "keep" in text and "second" in text and "first" not in text
    assert text.count(START) == 1 and text.count(END) == 1


def test_paired_ratios_divide_by_the_same_rounds_off() -> None:
    from types import SimpleNamespace

    from report import paired_ratios

    def m(variant: str, round_: int, rps: float, operation: str = "posts_20") -> SimpleNamespace:
        result = SimpleNamespace(requests_per_s=rps)
        return SimpleNamespace(server="fraiseql", variant=variant, operation=operation,
                               round=round_, result=result)

    measurements = [
        m("telemetry off", 1, 1000), m("telemetry sampled", 1, 950),
        m("telemetry off", 2, 500), m("telemetry sampled", 2, 510),
        m("telemetry sampled", 3, 700),  # no off in round 3: not paired
        m("telemetry off", 1, 10, operation="post_by_id"),
    ]
    assert paired_ratios(measurements, "telemetry sampled", "posts_20") == [0.95, 1.02]
    assert paired_ratios(measurements, "telemetry off", "posts_20") == [1.0, 1.0]
    assert paired_ratios(measurements, "telemetry on", "posts_20") == []


def test_pinning_gives_the_server_a_cpu_of_its_own(monkeypatch) -> None:
    import servers

    monkeypatch.setattr(servers.os, "sched_getaffinity", lambda pid: {2, 3, 5})
    pinning = servers.Pinning.split()
    assert pinning.server == {2} and pinning.rest == {3, 5}
    assert pinning.describe() == "server on CPU 2; wrk, PostgreSQL and the driver on CPU 3,5"
    monkeypatch.setattr(servers.os, "sched_getaffinity", lambda pid: {0})
    assert servers.Pinning.split() is None


def test_a_server_that_died_is_named_with_its_status_and_log(tmp_path) -> None:
    import subprocess

    import pytest

    import servers

    log = tmp_path / "server.log"
    log.write_text("Fatal Python error: Segmentation fault\n")
    process = subprocess.Popen(["sh", "-c", "exit 3"])
    process.wait()
    with pytest.raises(RuntimeError, match=r"exited with status 3(.|\n)*Segmentation fault"):
        servers.ensure_running(servers.Server("fraiseql", 18611, process, log))
    alive = subprocess.Popen(["sleep", "30"])
    try:
        servers.ensure_running(servers.Server("fraiseql", 18611, alive, log))
    finally:
        alive.kill()
        alive.wait()


def test_windows_combine_into_one_result() -> None:
    from bench_e2e import combined
    from load import LoadResult

    turns = [LoadResult(1000, 2.0, 0, 5.0, 7.0, 9.0, 12.0), LoadResult(800, 2.0, 2, 6.0, 8.0, 15.0, 20.0),
             LoadResult(900, 2.5, 1, 5.5, 7.5, 10.0, 11.0)]
    result = combined(turns)
    assert (result.requests, result.duration_s, result.errors) == (2700, 6.5, 3)
    assert result.requests_per_s == 2700 / 6.5
    assert (result.p50_ms, result.p90_ms, result.p99_ms, result.max_ms) == (5.5, 7.5, 15.0, 20.0)
