"""GraphQL selection -> plan spec (fraiseql/pipeline/plan.py), on a small hand-built schema."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from graphql import (
    FieldNode,
    GraphQLArgument,
    GraphQLField,
    GraphQLInt,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    GraphQLUnionType,
    OperationDefinitionNode,
    parse,
    validate,
)

from fraiseql.pipeline import Plan, build_response
from fraiseql.pipeline.plan import (
    PlanNotSupported,
    compiled_plan,
    compiled_plan_for_root_field,
    plan_for_root_field,
)


@dataclass(frozen=True)
class Meta:
    source_key: str
    computed: bool = False


def stored(type_: Any, source_key: str, **kwargs: Any) -> GraphQLField:
    return GraphQLField(type_, extensions={"fraiseql": Meta(source_key)}, **kwargs)


Node = GraphQLInterfaceType("Node", {"id": GraphQLField(GraphQLNonNull(GraphQLString))})
User = GraphQLObjectType(
    "User",
    lambda: {
        "id": stored(GraphQLNonNull(GraphQLString), "id"),
        "name": stored(GraphQLString, "name"),
        "createdAt": stored(GraphQLString, "created_at"),
    },
    interfaces=[Node],
)
Comment = GraphQLObjectType(
    "Comment",
    lambda: {
        "id": stored(GraphQLNonNull(GraphQLString), "id"),
        "body": stored(GraphQLString, "body"),
        "author": stored(User, "author"),
    },
    interfaces=[Node],
)
Post = GraphQLObjectType(
    "Post",
    lambda: {
        "id": stored(GraphQLNonNull(GraphQLString), "id"),
        "title": stored(GraphQLString, "title"),
        "publishedAt": stored(GraphQLString, "published_at"),
        "tags": stored(GraphQLList(GraphQLString), "tags"),
        "author": stored(User, "author"),
        "comments": stored(GraphQLList(GraphQLNonNull(Comment)), "comments"),
        "excerpt": GraphQLField(
            GraphQLString,
            args={"length": GraphQLArgument(GraphQLInt)},
            extensions={"fraiseql": Meta("excerpt", computed=True)},
        ),
        "related": stored(SearchResult, "related"),
        "untracked": GraphQLField(GraphQLString),
    },
    interfaces=[Node],
)
SearchResult = GraphQLUnionType("SearchResult", [Post, User])
Query = GraphQLObjectType(
    "Query",
    {
        "posts": GraphQLField(GraphQLNonNull(GraphQLList(GraphQLNonNull(Post)))),
        "post": GraphQLField(Post, args={"id": GraphQLArgument(GraphQLString)}),
        "count": GraphQLField(GraphQLInt),
    },
)
SCHEMA = GraphQLSchema(Query, types=[User, Comment, Post])


def spec_of(document: str, variables: dict[str, Any] | None = None) -> Any:
    ast = parse(document)
    assert validate(SCHEMA, ast) == []
    fragments = {d.name.value: d for d in ast.definitions if not isinstance(d, OperationDefinitionNode)}
    operation = next(d for d in ast.definitions if isinstance(d, OperationDefinitionNode))
    root = operation.selection_set.selections[0]
    assert isinstance(root, FieldNode)
    return plan_for_root_field(SCHEMA, root, fragments, variables or {}, Query)


def test_fields_map_to_source_keys_with_nested_objects() -> None:
    assert spec_of("{ posts { id publishedAt author { name createdAt } comments { body } } }") == (
        ("field", "id", "id", None),
        ("field", "publishedAt", "published_at", None),
        ("field", "author", "author", (("field", "name", "name", None), ("field", "createdAt", "created_at", None))),
        ("field", "comments", "comments", (("field", "body", "body", None),)),
    )


def test_aliases_and_typename() -> None:
    spec = spec_of("{ posts { __typename kind: __typename when: publishedAt first: author { n: name } } }")
    assert spec == (
        ("typename", "__typename", "Post"),
        ("typename", "kind", "Post"),
        ("field", "when", "published_at", None),
        ("field", "first", "author", (("field", "n", "name", None),)),
    )


def test_repeated_selections_merge_their_sub_selections() -> None:
    spec = spec_of("{ posts { author { name } id author { createdAt name } } }")
    assert spec == (
        ("field", "author", "author", (("field", "name", "name", None), ("field", "createdAt", "created_at", None))),
        ("field", "id", "id", None),
    )


def test_fragments_apply_by_type_condition() -> None:
    document = """
        query { posts { ...PostParts ... on Node { id } ... on SearchResult { ... on User { name } } ... { title } } }
        fragment PostParts on Post { author { ...UserParts } }
        fragment UserParts on User { name }
    """
    assert spec_of(document) == (
        ("field", "author", "author", (("field", "name", "name", None),)),
        ("field", "id", "id", None),
        ("field", "title", "title", None),
    )


def test_skip_and_include_follow_variables() -> None:
    document = "query($on: Boolean!) { posts { id @skip(if: $on) title @include(if: $on) tags @skip(if: false) } }"
    assert spec_of(document, {"on": True}) == (("field", "title", "title", None), ("field", "tags", "tags", None))
    assert spec_of(document, {"on": False}) == (("field", "id", "id", None), ("field", "tags", "tags", None))


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ("{ posts { id excerpt(length: 5) } }", "computed"),
        ("{ posts { comments { author { id } } excerpt } }", "computed"),
        ("{ posts { related { ... on User { name } } } }", "abstract"),
        ("{ posts { untracked } }", "no document key"),
        ("{ count }", "does not return an object"),
    ],
)
def test_selections_needing_resolvers_are_not_planned(document: str, reason: str) -> None:
    with pytest.raises(PlanNotSupported, match=reason) as caught:
        spec_of(document)
    assert caught.value.code == "PLAN_NOT_SUPPORTED"


def test_compiled_plans_are_cached_and_build_responses() -> None:
    spec = spec_of("{ posts { id when: publishedAt author { name } } }")
    plan = compiled_plan(spec)
    assert isinstance(plan, Plan)
    assert compiled_plan(spec) is plan
    row = json.dumps({"id": "p1", "published_at": None, "author": {"name": "Ann", "email": "x"}, "body": "b"})
    body = build_response([("rows", "posts", plan, [row], False, False)])
    assert json.loads(body) == {"data": {"posts": [{"id": "p1", "when": None, "author": {"name": "Ann"}}]}}


def test_compiled_plan_for_merged_root_nodes() -> None:
    ast = parse("{ post(id: \"1\") { id } post(id: \"1\") { title } }")
    operation = ast.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    nodes = [node for node in operation.selection_set.selections if isinstance(node, FieldNode)]
    plan = compiled_plan_for_root_field(SCHEMA, nodes, {}, {}, Query)
    assert plan is compiled_plan((("field", "id", "id", None), ("field", "title", "title", None)))
