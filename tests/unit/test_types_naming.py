import pytest

from fraiseql.types.naming import to_camel_case, to_lower_camel, to_snake_case


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("published_at", "publishedAt"),
        ("id", "id"),
        ("author_id", "authorId"),
        ("user_ID", "userID"),  # an acronym written in capitals survives
        ("html_URL_path", "htmlURLPath"),
        ("is_http2_enabled", "isHttp2Enabled"),
        ("_private", "_private"),
        ("title", "title"),
        ("a__b", "aB"),
    ],
)
def test_to_camel_case(name: str, expected: str) -> None:
    assert to_camel_case(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("CreatePost", "create_post"),
        ("HTTPRequest", "http_request"),
        ("getHTTPResponseCode", "get_http_response_code"),
        ("Post", "post"),
    ],
)
def test_to_snake_case(name: str, expected: str) -> None:
    assert to_snake_case(name) == expected


def test_class_names_become_field_names() -> None:
    assert to_lower_camel("CreatePost") == "createPost"
    assert to_lower_camel("HTTPLog") == "httpLog"
