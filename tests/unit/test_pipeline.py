"""Behaviour of the response pipeline, checked on both implementations (Rust, reference)."""

from __future__ import annotations

import json
import threading
from decimal import Decimal
from typing import Any

import pytest

from fraiseql import pipeline
from fraiseql.pipeline import reference


class Implementation:
    def __init__(self, module: Any) -> None:
        self.compile_plan = module.compile_plan
        self.build_response = module.build_response
        self.error_type = module.PipelineInputError

    def respond(self, spec: Any, rows: list[Any], *, single: bool = False, nullable: bool = True) -> Any:
        plan = self.compile_plan(spec)
        body = self.build_response([("rows", "items", plan, rows, single, nullable)])
        return parse(body)


def parse(body: bytes) -> Any:
    assert isinstance(body, bytes)
    return json.loads(body, parse_float=Decimal)


@pytest.fixture(params=[pipeline, reference], ids=["rust", "reference"])
def impl(request: pytest.FixtureRequest) -> Implementation:
    return Implementation(request.param)


POST_SPEC = (
    ("field", "id", "id", None),
    ("field", "publishedAt", "published_at", None),
    ("typename", "__typename", "Post"),
    ("field", "author", "author", (("field", "name", "name", None), ("typename", "__typename", "User"))),
    ("field", "comments", "comments", (("field", "body", "body", None),)),
)

POST_ROW = json.dumps({
    "id": "p1",
    "title": "ignored",
    "published_at": None,
    "author": {"id": "u1", "name": "Ann", "email": "a@example.com"},
    "comments": [{"id": "c1", "body": "first"}, {"id": "c2", "body": "second"}],
})


def test_projects_renames_nests_and_adds_typename(impl: Implementation) -> None:
    assert impl.respond(POST_SPEC, [POST_ROW]) == {"data": {"items": [{
        "id": "p1",
        "publishedAt": None,
        "__typename": "Post",
        "author": {"name": "Ann", "__typename": "User"},
        "comments": [{"body": "first"}, {"body": "second"}],
    }]}}


def test_output_keys_follow_plan_order(impl: Implementation) -> None:
    spec = (("field", "b", "b", None), ("field", "a", "a", None))
    body = impl.build_response([("rows", "x", impl.compile_plan(spec), ['{"a":1,"b":2}'], True, True)])
    assert list(json.loads(body)["data"]["x"]) == ["b", "a"]


def test_alias_reads_one_source_key_twice(impl: Implementation) -> None:
    spec = (
        ("field", "short", "author", (("field", "name", "name", None),)),
        ("field", "long", "author", (("field", "name", "name", None), ("field", "mail", "email", None))),
    )
    result = impl.respond(spec, [POST_ROW], single=True)
    assert result["data"]["items"] == {"short": {"name": "Ann"}, "long": {"name": "Ann", "mail": "a@example.com"}}


def test_missing_keys_and_null_objects_become_null(impl: Implementation) -> None:
    spec = (("field", "x", "nope", None), ("field", "author", "author", (("field", "name", "name", None),)))
    assert impl.respond(spec, ['{"author": null}'], single=True)["data"]["items"] == {"x": None, "author": None}


def test_scalars_are_copied_verbatim(impl: Implementation) -> None:
    spec = (("field", "n", "n", None), ("field", "s", "s", None))
    row = '{"n": [123456789012345678901234567890, 1.5E-300, -0.0, 1e400], "s": "a\\u00e9\\"\\ud83d\\ude00"}'
    body = impl.build_response([("rows", "r", impl.compile_plan(spec), [row], True, True)])
    assert b"123456789012345678901234567890" in body
    assert b"1e400" in body and b"1.5E-300" in body
    assert json.loads(body)["data"]["r"]["s"] == 'a\u00e9"\U0001f600'


def test_single_root_takes_first_row_or_null(impl: Implementation) -> None:
    spec = (("field", "id", "id", None),)
    assert impl.respond(spec, ['{"id":1}', '{"id":2}'], single=True)["data"]["items"] == {"id": 1}
    assert impl.respond(spec, [], single=True)["data"]["items"] is None


def test_sql_null_row_is_json_null(impl: Implementation) -> None:
    assert impl.respond((("field", "id", "id", None),), [None, '{"id":1}'])["data"]["items"] == [None, {"id": 1}]


def test_several_roots_raw_roots_and_given_errors(impl: Implementation) -> None:
    plan = impl.compile_plan((("field", "id", "id", None),))
    body = impl.build_response(
        [("rows", "posts", plan, ['{"id":1}'], False, False), ("raw", "count", '{"n": 7}')],
        ['{"message":"boom","path":["other"]}'],
    )
    assert parse(body) == {"data": {"posts": [{"id": 1}], "count": {"n": 7}}, "errors": [{"message": "boom", "path": ["other"]}]}


INVALID_ROWS: dict[str, str | bytes] = {
    "truncated": '{"id": 1, "title": "abc',
    "trailing_garbage": '{"id": 1} x',
    "two_documents": '{}{}',
    "nan": '{"id": NaN}',
    "infinity": '[-Infinity]',
    "leading_zero": '{"id": 01}',
    "control_character": '{"id": "a\x01b"}',
    "bad_escape": '{"id": "\\x"}',
    "lone_surrogate_character": '{"id": "\ud800"}',
    "empty": "",
    "byte_order_mark": '\ufeff{}',
    "too_deep": "[" * 513 + "]" * 513,
    "unterminated_deep": "[" * 100_000,
    "bytes_not_utf8": b"{\"id\": \"\xc3\"}",
}


@pytest.mark.parametrize("row", INVALID_ROWS.values(), ids=INVALID_ROWS.keys())
def test_invalid_row_nulls_its_root_and_reports_invalid_db_json(impl: Implementation, row: str | bytes) -> None:
    plan = impl.compile_plan((("field", "id", "id", None),))
    body = impl.build_response([
        ("rows", "posts", plan, ['{"id":1}', row], False, True),
        ("raw", "count", "2"),
    ])
    assert parse(body) == {
        "data": {"posts": None, "count": 2},
        "errors": [{
            "message": "The database returned invalid JSON for field 'posts' (row 1).",
            "path": ["posts"],
            "extensions": {"code": "INVALID_DB_JSON"},
        }],
    }


def test_invalid_row_in_non_nullable_root_nulls_data(impl: Implementation) -> None:
    result = impl.respond((("field", "id", "id", None),), ["{"], nullable=False)
    assert result["data"] is None
    assert [e["extensions"]["code"] for e in result["errors"]] == ["INVALID_DB_JSON"]


def test_deepest_allowed_document_is_projected(impl: Implementation) -> None:
    row = "[" * 512 + "]" * 512
    assert impl.respond((), [row], single=True)["data"]["items"] is not None


INVALID_SPECS = {
    "not_a_sequence": 5,
    "unknown_tag": (("other", "a", "a", None),),
    "short_field": (("field", "a", "a"),),
    "non_str_key": (("field", 1, "a", None),),
    "duplicate_out_key": (("field", "a", "a", None), ("typename", "a", "T")),
    "bad_sub_spec": (("field", "a", "a", 3),),
    "surrogate_key": (("field", "a", "\ud800", None),),
}


@pytest.mark.parametrize("spec", INVALID_SPECS.values(), ids=INVALID_SPECS.keys())
def test_invalid_spec_raises_invalid_plan(impl: Implementation, spec: Any) -> None:
    with pytest.raises(impl.error_type) as caught:
        impl.compile_plan(spec)
    assert isinstance(caught.value, ValueError)
    assert caught.value.code == "INVALID_PLAN"


def test_malformed_inputs_raise_with_codes(impl: Implementation) -> None:
    plan = impl.compile_plan(())
    cases = [
        ([("rows", "a", plan, [], False)], "INVALID_ROOTS"),
        ([("rows", "a", "not a plan", [], False, True)], "INVALID_ROOTS"),
        ([("rows", "a", plan, [1], False, True)], "INVALID_ROOTS"),
        ([("raw", "a", "1"), ("raw", "a", "2")], "INVALID_ROOTS"),
        ([("raw", "a", "{")], "INVALID_RAW_JSON"),
    ]
    for roots, code in cases:
        with pytest.raises(impl.error_type) as caught:
            impl.build_response(roots)
        assert caught.value.code == code, roots
    for errors in (["[1]"], ["{"], [None]):
        with pytest.raises(impl.error_type) as caught:
            impl.build_response([], errors)
        assert caught.value.code == "INVALID_ERROR_JSON"


def test_rust_plan_is_reusable_across_threads() -> None:
    plan = pipeline.compile_plan(POST_SPEC)
    rows = [POST_ROW] * 2_000  # large enough to release the GIL while building
    expected = pipeline.build_response([("rows", "posts", plan, rows, False, False)])
    results: list[bytes] = []

    def build() -> None:
        results.append(pipeline.build_response([("rows", "posts", plan, rows, False, False)]))

    threads = [threading.Thread(target=build) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == [expected] * 4
    oracle = reference.build_response([("rows", "posts", reference.compile_plan(POST_SPEC), rows, False, False)])
    assert parse(expected) == parse(oracle)


def test_bytes_rows_are_utf8_checked(impl: Implementation) -> None:
    spec = (("field", "name", "name", None),)
    rows = ['{"name": "Zoë 🚀"}'.encode(), b'{"name": "\xff"}']
    assert impl.respond(spec, rows[:1], single=True)["data"]["items"] == {"name": "Zoë 🚀"}
    result = impl.respond(spec, rows)
    assert result["data"]["items"] is None
    assert result["errors"][0]["extensions"]["code"] == "INVALID_DB_JSON"
