"""The blog example's operations as GraphQL documents, and how to read their answers.

Kept free of locust so the request log's meaning (codes, acknowledged ids) can be tested
on plain dictionaries.

Example::

    document, variables = create_post_request(key="3f2a...", author_id=user_id)
    outcome = read_outcome("create_post", 200, response_body)
    outcome.ack_id   # the new post's id when the write was acknowledged
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

WRITES = frozenset({"create_post", "update_post", "add_comment"})
TITLE_PREFIX = "chaos "  # create_post writes "chaos <idempotency key>" as the title

READ_POSTS = "{ posts(limit: 10, orderBy: [{field: publishedAt, direction: DESC}]) { id title author { id name } } }"
READ_POST = "query($id: ID!) { post(id: $id) { id title body tags comments { body author { name } } } }"
READ_CONNECTION = ("{ postsConnection(first: 10) { edges { cursor node { id title } } "
                   "pageInfo { hasNextPage endCursor } } }")
ME = "{ me { id name } }"
CREATE_POST = """mutation($input: CreatePostInput!) { createPost(input: $input) {
  __typename ... on CreatePostSuccess { post { id } } ... on CreatePostError { code message } } }"""
UPDATE_POST = """mutation($input: UpdatePostInput!) { updatePost(input: $input) {
  __typename ... on UpdatePostSuccess { post { id } } ... on UpdatePostError { code message } } }"""
ADD_COMMENT = """mutation($input: AddCommentInput!) { addComment(input: $input) {
  __typename ... on AddCommentSuccess { comment { id } } ... on AddCommentError { code message } } }"""

# operation -> (root field of the answer, field holding the written object)
_MUTATION_FIELDS = {"create_post": ("createPost", "post"), "update_post": ("updatePost", "post"),
                    "add_comment": ("addComment", "comment")}


def title_for(key: str) -> str:
    """The title create_post writes for idempotency key ``key``."""
    return f"{TITLE_PREFIX}{key}"


def create_post_request(key: str, author_id: str) -> tuple[str, dict[str, Any]]:
    return CREATE_POST, {"input": {"title": title_for(key), "body": "written by the chaos load",
                                   "authorId": author_id, "tags": ["chaos"], "idempotencyKey": key}}


def update_post_request(key: str, post_id: str) -> tuple[str, dict[str, Any]]:
    # Only the body changes: titles identify create_post's writes in the integrity check.
    return UPDATE_POST, {"input": {"id": post_id, "body": f"updated by the chaos load ({key})",
                                   "idempotencyKey": key}}


def add_comment_request(key: str, post_id: str, author_id: str) -> tuple[str, dict[str, Any]]:
    return ADD_COMMENT, {"input": {"postId": post_id, "body": "a chaos comment", "authorId": author_id,
                                   "idempotencyKey": key}}


@dataclass(frozen=True)
class Outcome:
    """What one answer says: GraphQL codes, a short error, the acknowledged id, ids seen."""

    codes: list[str] = field(default_factory=list)
    error: str | None = None
    ack_id: str | None = None
    rejected: bool = False  # the mutation answered with its ...Error type: a definite "no"
    post_ids: list[str] = field(default_factory=list)
    user_ids: list[str] = field(default_factory=list)


WRONG_ANSWER = "WRONG_ANSWER"  # the client's own code: an answer that is not to its question


def read_outcome(op: str, status: int | None, body: Any,
                 variables: dict[str, Any] | None = None) -> Outcome:
    """Interpret the answer ``body`` (parsed JSON or None) of operation ``op``.

    Reads are checked against their question, as a careful client would: ``read_post``
    must answer with the post it asked for, ``read_posts`` with a list. An answer to
    another question (a cache serving the wrong entry) counts as an error, ``WRONG_ANSWER``.
    """
    wrong = _wrong_answer(op, body, variables or {})
    if wrong is not None:
        return Outcome(codes=[WRONG_ANSWER], error=wrong)
    if not isinstance(body, dict):
        return Outcome(error=None if status is None else f"HTTP {status} without a GraphQL body")
    errors = body.get("errors") or []
    codes = [str(e.get("extensions", {}).get("code", "UNKNOWN")) for e in errors if isinstance(e, dict)]
    error = str(errors[0].get("message", ""))[:300] if errors and isinstance(errors[0], dict) else None
    data = body.get("data") if isinstance(body.get("data"), dict) else {}
    if op in _MUTATION_FIELDS:
        root, member = _MUTATION_FIELDS[op]
        answer = data.get(root) if isinstance(data.get(root), dict) else {}
        if str(answer.get("__typename", "")).endswith("Error"):
            return Outcome(codes=[*codes, str(answer.get("code"))], error=str(answer.get("message")),
                           rejected=True)
        written = answer.get(member) if isinstance(answer.get(member), dict) else {}
        ack = written.get("id")
        return Outcome(codes=codes, error=error, ack_id=None if ack is None else str(ack),
                       post_ids=[str(ack)] if ack is not None and member == "post" else [])
    posts = data.get("posts") if op == "read_posts" and isinstance(data.get("posts"), list) else []
    return Outcome(codes=codes, error=error,
                   post_ids=[str(p["id"]) for p in posts if isinstance(p, dict) and "id" in p],
                   user_ids=[str(p["author"]["id"]) for p in posts
                             if isinstance(p, dict) and isinstance(p.get("author"), dict)])


def _wrong_answer(op: str, body: Any, variables: dict[str, Any]) -> str | None:
    if not isinstance(body, dict) or body.get("errors") or not isinstance(body.get("data"), dict):
        return None
    data = body["data"]
    if op == "read_post" and "id" in variables:
        post = data.get("post")
        if isinstance(post, dict) and str(post.get("id")) != str(variables["id"]):
            return f"asked for post {variables['id']}, got post {post.get('id')}"
    if op == "read_posts" and not isinstance(data.get("posts"), list):
        return f"posts is not a list: {str(data.get('posts'))[:80]}"
    return None
