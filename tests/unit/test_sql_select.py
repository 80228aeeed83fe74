"""SELECT, ORDER BY and keyset statements rendered by a real connection."""

from collections.abc import Iterator

import psycopg
import pytest

from fraiseql.errors import GraphQLRequestError
from fraiseql.sql import (
    DocumentShape,
    FieldShape,
    build_count,
    build_page,
    build_select,
    build_select_by_id,
    decode_cursor,
    encode_cursor,
)
from fraiseql.sql.keyset import page_keys

POST = DocumentShape(
    {
        "id": FieldShape("id"),
        "title": FieldShape("string"),
        "views": FieldShape("int"),
        "tags": FieldShape("string", is_list=True),
        "published_at": FieldShape("datetime"),
    },
    aliases={"publishedAt": "published_at"},
    name="Post",
)


@pytest.fixture(scope="module")
def conn(pg_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(pg_url) as connection:
        yield connection


def test_select_with_everything(conn: psycopg.Connection) -> None:
    query, params = build_select(
        "app.v_post", POST, where={"title": {"eq": "x"}},
        order_by=[{"field": "publishedAt", "direction": "DESC", "nulls": "LAST"}, "title"],
        limit=10, offset=5,
    )
    assert query.as_string(conn) == (
        "SELECT data::text FROM \"app\".\"v_post\" WHERE data->>'title' = %(p0)s"
        " ORDER BY (data->>'published_at')::timestamptz DESC NULLS LAST,"
        " data->>'title' ASC NULLS LAST LIMIT %(p1)s OFFSET %(p2)s"
    )
    assert params == {"p0": "x", "p1": 10, "p2": 5}


def test_select_defaults_to_the_maximum_limit(conn: psycopg.Connection) -> None:
    query, params = build_select("v_post", POST, max_limit=50)
    assert query.as_string(conn) == 'SELECT data::text FROM "v_post" LIMIT %(p0)s'
    assert params == {"p0": 50}


def test_select_by_id_and_count(conn: psycopg.Connection) -> None:
    query, params = build_select_by_id("v_post", "abc")
    assert query.as_string(conn) == 'SELECT data::text FROM "v_post" WHERE id = %(p0)s'
    query, params = build_count("v_post", POST, where={"views": {"gt": 1}})
    assert query.as_string(conn) == (
        "SELECT count(*) FROM \"v_post\" WHERE (data->>'views')::numeric > %(p0)s::numeric"
    )


def test_a_stored_text_column_is_selected_instead_of_converting_data(conn: psycopg.Connection) -> None:
    query, _params = build_select("tv_post", POST, where={"title": {"eq": "x"}}, limit=2, text_column="data_text")
    assert query.as_string(conn) == (
        'SELECT "data_text" FROM "tv_post" WHERE data->>\'title\' = %(p0)s LIMIT %(p1)s'
    )
    query, _params = build_select_by_id("tv_post", "abc", text_column="data_text")
    assert query.as_string(conn) == 'SELECT "data_text" FROM "tv_post" WHERE id = %(p0)s'


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"limit": 1001}, "limit must be at most 1000, got 1001"),
        ({"limit": -1}, "limit must not be negative"),
        ({"offset": -3}, "offset must be a non-negative integer"),
        ({"order_by": [{"field": "tags"}]}, "cannot order by 'tags'"),
        ({"order_by": [{"field": "title", "direction": "UP"}]}, "direction must be ASC or DESC"),
        ({"order_by": [{"field": "title", "nulls": "MIDDLE"}]}, "nulls must be FIRST or LAST"),
        ({"order_by": [{"direction": "ASC"}]}, "an order key needs a field"),
    ],
)
def test_bad_select_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(GraphQLRequestError, match=message):
        build_select("v_post", POST, **kwargs)


def test_first_page_and_next_page(conn: psycopg.Connection) -> None:
    query, params, keys, size = build_page(
        "v_post", POST, first=2, order_by=[{"field": "views", "direction": "DESC"}]
    )
    assert query.as_string(conn) == (
        "SELECT json_build_array(data, data->>'views', id::text)::text FROM \"v_post\""
        " ORDER BY (data->>'views')::numeric DESC NULLS FIRST, id ASC NULLS LAST LIMIT %(p0)s"
    )
    assert (params, size) == ({"p0": 3}, 2)
    cursor = encode_cursor(keys, ["7", "some-id"])
    query, params, _, _ = build_page(
        "v_post", POST, first=2, after=cursor, order_by=[{"field": "views", "direction": "DESC"}]
    )
    assert query.as_string(conn) == (
        "SELECT json_build_array(data, data->>'views', id::text)::text FROM \"v_post\""
        " WHERE ((data->>'views')::numeric < %(p0)s::numeric) OR"
        " (((data->>'views')::numeric IS NOT DISTINCT FROM %(p1)s::numeric) AND (id > %(p2)s))"
        " ORDER BY (data->>'views')::numeric DESC NULLS FIRST, id ASC NULLS LAST LIMIT %(p3)s"
    )
    assert params == {"p0": "7", "p1": "7", "p2": "some-id", "p3": 3}


def test_after_a_null_key(conn: psycopg.Connection) -> None:
    keys = page_keys([{"field": "title"}], POST)  # ASC NULLS LAST: nothing is beyond a null
    query, _, _, _ = build_page(
        "v_post", POST, first=1, after=encode_cursor(keys, [None, "i"]), order_by=["title"]
    )
    assert "WHERE (data->>'title' IS NOT DISTINCT FROM %(p0)s) AND (id > %(p1)s) ORDER BY" in (
        query.as_string(conn)
    )


def test_cursor_round_trip() -> None:
    keys = page_keys(None, POST)
    assert decode_cursor(encode_cursor(keys, ["abc"]), keys) == ["abc"]


@pytest.mark.parametrize("cursor", ["not a cursor!", "", "bm9wZQ", "e30", 12])
def test_malformed_cursors_are_clear_errors(cursor: object) -> None:
    keys = page_keys(None, POST)
    with pytest.raises(GraphQLRequestError, match="malformed cursor") as caught:
        decode_cursor(cursor, keys)  # type: ignore[arg-type]
    assert caught.value.code == "INVALID_INPUT"


def test_cursor_from_another_order_is_rejected() -> None:
    cursor = encode_cursor(page_keys(["title"], POST), ["a", "b"])
    with pytest.raises(GraphQLRequestError, match="different orderBy"):
        build_page("v_post", POST, after=cursor)


@pytest.mark.parametrize(("first", "message"), [(-1, "must not be negative"), (5000, "must be at most 1000")])
def test_first_out_of_range(first: int, message: str) -> None:
    with pytest.raises(GraphQLRequestError, match=f"first {message}"):
        build_page("v_post", POST, first=first)
