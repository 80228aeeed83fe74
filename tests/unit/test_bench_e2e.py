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
