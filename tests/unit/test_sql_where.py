"""WHERE rendering: the exact SQL text (rendered by a real connection) and parameters."""

from collections.abc import Iterator

import psycopg
import pytest
from psycopg.types.json import Jsonb

from fraiseql.errors import GraphQLRequestError
from fraiseql.sql import UNTYPED, DocumentShape, FieldShape, Params, build_where, escape_like

USER = DocumentShape({"id": FieldShape("id"), "name": FieldShape("string")}, name="User")
POST = DocumentShape(
    {
        "id": FieldShape("id"),
        "title": FieldShape("string"),
        "views": FieldShape("int"),
        "published_at": FieldShape("datetime"),
        "flag": FieldShape("boolean"),
        "tags": FieldShape("string", is_list=True),
        "status": FieldShape("enum"),
        "author": FieldShape("object", nested=USER),
    },
    aliases={"publishedAt": "published_at"},
    name="Post",
)


@pytest.fixture(scope="module")
def conn(pg_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(pg_url) as connection:
        yield connection


def render(conn: psycopg.Connection, where: dict, shape: DocumentShape = POST) -> tuple[str, dict]:
    params = Params()
    return build_where(where, shape, params).as_string(conn), params.values


def test_text_equality(conn: psycopg.Connection) -> None:
    assert render(conn, {"title": {"eq": "Hello"}}) == ("data->>'title' = %(p0)s", {"p0": "Hello"})


def test_id_uses_the_view_column(conn: psycopg.Connection) -> None:
    text, params = render(conn, {"id": {"in": ["a", "b"]}})
    assert text == "id = ANY(%(p0)s)"
    assert params == {"p0": ["a", "b"]}


def test_nested_path_and_graphql_names(conn: psycopg.Connection) -> None:
    text, _ = render(conn, {"author": {"name": {"startsWith": "An"}, "id": {"eq": "1"}}})
    # A nested id is a document key, not the view's column.
    assert text == "(data->'author'->>'name' LIKE %(p0)s) AND (data->'author'->>'id' = %(p1)s)"


def test_typed_casts(conn: psycopg.Connection) -> None:
    assert render(conn, {"views": {"gte": 3}})[0] == "(data->>'views')::numeric >= %(p0)s::numeric"
    assert render(conn, {"publishedAt": {"lt": "2024-01-01T00:00:00Z"}})[0] == (
        "(data->>'published_at')::timestamptz < %(p0)s::timestamptz"
    )
    assert render(conn, {"flag": {"eq": True}})[0] == "(data->>'flag')::boolean = %(p0)s::boolean"
    assert render(conn, {"views": {"nin": [1, 2.5]}})[0] == (
        "NOT ((data->>'views')::numeric = ANY(%(p0)s::numeric[]))"
    )


def test_list_contains_is_array_containment(conn: psycopg.Connection) -> None:
    text, params = render(conn, {"tags": {"contains": "sql"}})
    assert text == "data->'tags' @> %(p0)s"
    assert params["p0"].obj == Jsonb(["sql"]).obj


def test_string_contains_escapes_wildcards(conn: psycopg.Connection) -> None:
    assert render(conn, {"title": {"contains": "50%_off"}})[1] == {"p0": "%50\\%\\_off%"}
    # like/ilike take the client's own pattern, still as a parameter.
    assert render(conn, {"title": {"ilike": "he%"}}) == ("data->>'title' ILIKE %(p0)s", {"p0": "he%"})
    assert escape_like("a\\b") == "a\\\\b"


def test_logical_operators(conn: psycopg.Connection) -> None:
    text, params = render(
        conn,
        {"or": [{"title": {"eq": "a"}}, {"not": {"views": {"lt": 1}}}], "status": {"isNull": False}},
    )
    assert text == (
        "((data->>'title' = %(p0)s) OR (NOT ((data->>'views')::numeric < %(p1)s::numeric)))"
        " AND (data->>'status' IS NOT NULL)"
    )
    assert render(conn, {"or": []})[0] == "FALSE"
    assert render(conn, {"and": []})[0] == "TRUE"
    assert render(conn, {"title": None})[0] == "TRUE"


def test_empty_in_matches_nothing(conn: psycopg.Connection) -> None:
    assert render(conn, {"title": {"in": []}})[0] == "FALSE"
    assert render(conn, {"title": {"nin": []}})[0] == "TRUE"


def test_untyped_documents_infer_casts(conn: psycopg.Connection) -> None:
    text, _ = render(conn, {"views": {"gt": 2}, "author": {"name": {"eq": "Ann"}}}, UNTYPED)
    assert text == (
        "((data->>'views')::numeric > %(p0)s::numeric) AND (data->'author'->>'name' = %(p1)s)"
    )


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ({"nope": {"eq": 1}}, "unknown field 'nope' on Post"),
        ({"title": {"between": "a"}}, "unknown operator 'between' for 'title'"),
        ({"views": {"contains": "1"}}, "unknown operator 'contains' for 'views'"),
        ({"views": {"eq": "many"}}, "views expects a int value"),
        ({"flag": {"eq": "yes"}}, "flag expects a boolean value"),
        ({"published_at": {"gt": "soon"}}, "published_at expects a datetime value"),
        ({"title": {"eq": None}}, "does not accept null; use isNull"),
        ({"title": {"in": "a"}}, "takes a list"),
        ({"title": "Hello"}, "must be an object of operators"),
        ({"or": {"title": {"eq": "a"}}}, "'or' takes a list of filters"),
        ({"tags": {"eq": "x"}}, "unknown operator 'eq' for 'tags' \\(list\\)"),
    ],
)
def test_bad_filters_raise_clear_errors(where: dict, message: str) -> None:
    with pytest.raises(GraphQLRequestError, match=message) as caught:
        build_where(where, POST, Params())
    assert caught.value.code == "INVALID_INPUT"
