"""Static query limits: depth, complexity and aliases, fragments followed."""

from __future__ import annotations

import pytest
from graphql import parse

from fraiseql.config import FraiseQLConfig
from fraiseql.errors import GraphQLRequestError
from fraiseql.execution.limits import enforce, measure


def test_measure_counts_depth_fields_and_aliases() -> None:
    found = measure(parse("{ a: posts { id author { name } } posts { title } }"))
    assert (found.depth, found.complexity, found.aliases) == (3, 6, 1)


def test_fragments_and_inline_fragments_are_followed() -> None:
    document = parse(
        "query { posts { ...P } } fragment P on Post { id ... on Post { author { name } } }"
    )
    assert measure(document).depth == 3
    assert measure(document).complexity == 4


def test_fragment_cycles_do_not_loop() -> None:
    document = parse("{ posts { ...A } } fragment A on Post { ...B } fragment B on Post { ...A id }")
    assert measure(document).complexity == 2


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ a { b { c { d { e } } } } }", "QUERY_TOO_DEEP"),
        ("{ " + " ".join(f"f{i}" for i in range(30)) + " }", "QUERY_TOO_COMPLEX"),
        ("{ " + " ".join(f"x{i}: f" for i in range(5)) + " }", "TOO_MANY_ALIASES"),
    ],
    ids=["deep", "complex", "aliases"],
)
def test_each_limit_has_its_own_code(query: str, code: str) -> None:
    config = FraiseQLConfig(max_query_depth=4, max_query_complexity=20, max_aliases=4)
    with pytest.raises(GraphQLRequestError) as caught:
        enforce(parse(query), config)
    assert caught.value.code == code
    assert caught.value.status == 400


def test_negative_limits_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="max_query_depth"):
        FraiseQLConfig(max_query_depth=-1)
