"""cache_key: equal requests share a key, different callers or inputs never do."""

from __future__ import annotations

import pytest

from fraiseql.cache.keys import cache_key, normalise_document

SCOPE = "u=1;t=acme;r="


def test_whitespace_commas_and_comments_do_not_change_the_key() -> None:
    plain = "query Posts($n: Int) { posts(limit: $n) { id title } }"
    noisy = """
        # list the posts
        query Posts( $n : Int ) {
          posts(limit: $n) { id, title }   # trailing comment
        }
    """
    assert cache_key(plain, "Posts", {"n": 2}, SCOPE) == cache_key(noisy, "Posts", {"n": 2}, SCOPE)


def test_whitespace_inside_a_string_literal_is_significant() -> None:
    one = '{ posts(where: {title: {eq: "a b"}}) { id } }'
    two = '{ posts(where: {title: {eq: "a  b"}}) { id } }'
    assert cache_key(one, None, {}, SCOPE) != cache_key(two, None, {}, SCOPE)


def test_variable_order_does_not_change_the_key() -> None:
    doc = "query Q($a: Int, $b: Int) { x(a: $a, b: $b) }"
    first = cache_key(doc, "Q", {"a": 1, "b": {"y": 2, "x": 3}}, SCOPE)
    second = cache_key(doc, "Q", {"b": {"x": 3, "y": 2}, "a": 1}, SCOPE)
    assert first == second


@pytest.mark.parametrize(
    ("left", "right"),
    [
        pytest.param(("{ a }", None, {}, SCOPE), ("{ b }", None, {}, SCOPE), id="document"),
        pytest.param(("{ a }", "A", {}, SCOPE), ("{ a }", "B", {}, SCOPE), id="operation"),
        pytest.param(("{ a }", None, {}, SCOPE), ("{ a }", "", {}, SCOPE), id="no-operation-vs-empty"),
        pytest.param(("{ a }", None, {"n": 1}, SCOPE), ("{ a }", None, {"n": 2}, SCOPE), id="variables"),
        pytest.param(("{ a }", None, {"n": 1}, SCOPE), ("{ a }", None, {"n": "1"}, SCOPE), id="variable-type"),
        pytest.param(("{ a }", None, {}, "u=1;t=;r="), ("{ a }", None, {}, "u=2;t=;r="), id="user"),
        pytest.param(("{ a }", None, {}, "u=1;t=x;r="), ("{ a }", None, {}, "u=1;t=y;r="), id="tenant"),
        pytest.param(("{ a }", None, {}, "u=1;t=;r=admin"), ("{ a }", None, {}, "u=1;t=;r="), id="roles"),
    ],
)
def test_any_difference_gives_a_different_key(left: tuple, right: tuple) -> None:
    assert cache_key(*left) != cache_key(*right)


def test_parts_cannot_imitate_each_other_by_concatenation() -> None:
    # A naive "document + scope" concatenation would make these two equal.
    assert cache_key("{ a }", None, {}, "xy") != cache_key("{ a }x", None, {}, "y")


def test_equal_scopes_share_the_key() -> None:
    assert cache_key("{ a }", None, {}, "u=;t=acme;r=") == cache_key("{a}", None, {}, "u=;t=acme;r=")


def test_key_is_a_hex_sha256() -> None:
    key = cache_key("{ a }", None, None, SCOPE)
    assert len(key) == 64 and int(key, 16) >= 0


def test_a_document_that_does_not_lex_still_has_a_stable_key() -> None:
    broken = '{ a(s: "unterminated) }'
    assert normalise_document(broken) == broken
    assert cache_key(broken, None, {}, SCOPE) == cache_key(broken, None, {}, SCOPE)


def test_variables_that_are_not_json_are_refused() -> None:
    with pytest.raises(TypeError):
        cache_key("{ a }", None, {"when": object()}, SCOPE)
