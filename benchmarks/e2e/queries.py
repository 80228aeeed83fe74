"""The benchmark's operations, written for each server, and the check that they agree.

Each operation asks every server for the same data in that server's own dialect:
FraiseQL (``posts(limit:, orderBy:)``), Strawberry (``posts(limit:)``, ordered by id in
its resolver) and PostGraphile (``posts(first:, orderBy: ID_ASC)``, with the simplify
inflector and simple collections; comments ordered as the others order them).
``normalise`` turns an answer into plain data
(timestamps as UTC datetimes) so that answers can be compared across servers.

Example::

    op = OPERATIONS["posts_20"]
    body = op.body("postgraphile", post_id=..., author_id=...)
    normalise(op.extract(response_json))
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SERVERS = ("fraiseql", "strawberry", "postgraphile")
BENCH_TITLE = "e2e bench post"  # rows the mutation creates; deleted after each run

_POST_FIELDS = "id title body publishedAt tags"
_LIST_20 = "id title publishedAt author { id name }"
_LIST_100 = "id title author { id name } comments { id body createdAt author { id name } }"

_ONE = "query PostById($id: ID!) { post(id: $id) { %s } }" % _POST_FIELDS
_ONE_PG = "query PostById($id: UUID!) { post(id: $id) { %s } }" % _POST_FIELDS


def _list(fields: str, limit: int) -> dict[str, str]:
    return {
        "fraiseql": "query Posts { posts(limit: %d, orderBy: [{field: id}]) { %s } }" % (limit, fields),
        "strawberry": "query Posts { posts(limit: %d) { %s } }" % (limit, fields),
        "postgraphile": "query Posts { posts(first: %d, orderBy: ID_ASC) { %s } }"
        % (limit, fields.replace("comments {", "comments(orderBy: [CREATED_AT_ASC, ID_ASC]) {")),
    }


_CREATE = """mutation CreatePost($input: CreatePostInput!) {
  createPost(input: $input) {
    ... on CreatePostSuccess { post { id title author { name } } }
    ... on CreatePostError { code message }
  }
}"""
_CREATE_PG = """mutation CreatePost($input: CreatePostInput!) {
  createPost(input: $input) { post { id title author { name } } }
}"""


@dataclass(frozen=True)
class Operation:
    """One benchmarked operation: its documents per server and how to read the answer."""

    name: str
    label: str
    documents: dict[str, str]
    variables: Callable[[str, dict[str, str]], dict[str, Any]]
    is_list: bool
    is_mutation: bool = False

    def body(self, server: str, ids: dict[str, str]) -> bytes:
        """The POST body the load tool sends to ``server``."""
        payload = {"query": self.documents[server], "variables": self.variables(server, ids)}
        return json.dumps(payload, separators=(",", ":")).encode()

    def extract(self, answer: dict[str, Any]) -> Any:
        """The operation's data from a GraphQL answer (raises if it carries errors)."""
        if answer.get("errors"):
            raise AssertionError(f"{self.name}: errors in the answer: {answer['errors']}")
        data = answer["data"]
        if self.is_mutation:
            return data["createPost"]["post"]
        return data["posts" if self.is_list else "post"]


def _no_variables(server: str, ids: dict[str, str]) -> dict[str, Any]:
    return {}


def _post_id(server: str, ids: dict[str, str]) -> dict[str, Any]:
    return {"id": ids["post_id"]}


def _create_input(server: str, ids: dict[str, str]) -> dict[str, Any]:
    post = {"title": BENCH_TITLE, "body": "Written by the benchmark.", "authorId": ids["author_id"]}
    return {"input": {"post": post} if server == "postgraphile" else post}


OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation(
            "post_by_id", "one post by id",
            {"fraiseql": _ONE, "strawberry": _ONE, "postgraphile": _ONE_PG}, _post_id, False,
        ),
        Operation("posts_20", "20 posts with author", _list(_LIST_20, 20), _no_variables, True),
        Operation(
            "posts_100", "100 posts with author and comments", _list(_LIST_100, 100),
            _no_variables, True,
        ),
        Operation(
            "create_post", "mutation: createPost",
            {"fraiseql": _CREATE, "strawberry": _CREATE, "postgraphile": _CREATE_PG},
            _create_input, False, is_mutation=True,
        ),
    )
}


def normalise(value: Any) -> Any:
    """Plain data for comparison: timestamps (any ISO 8601 spelling) as UTC datetimes."""
    if isinstance(value, dict):
        return {key: normalise(item) for key, item in value.items()}
    if isinstance(value, list):
        return [normalise(item) for item in value]
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        try:
            parsed = datetime.datetime.fromisoformat(value)
        except ValueError:
            return value
        if parsed.tzinfo is not None:
            return parsed.astimezone(datetime.timezone.utc)
    return value


def differences(expected: Any, actual: Any, path: str = "$") -> list[str]:
    """Where two normalised answers differ (empty when they agree), at most 5 places."""
    found: list[str] = []
    _walk(expected, actual, path, found)
    return found[:5]


def _walk(expected: Any, actual: Any, path: str, found: list[str]) -> None:
    if len(found) >= 5:
        return
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(set(expected) | set(actual)):
            _walk(expected.get(key, "<missing>"), actual.get(key, "<missing>"), f"{path}.{key}", found)
    elif isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            found.append(f"{path}: {len(expected)} items against {len(actual)}")
            return
        for index, (left, right) in enumerate(zip(expected, actual)):
            _walk(left, right, f"{path}[{index}]", found)
    elif expected != actual:
        found.append(f"{path}: {expected!r} != {actual!r}")
