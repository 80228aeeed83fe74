"""How the load reads the blog's answers: GraphQL codes, acknowledged ids, rejections."""

from __future__ import annotations

from chaos.load.operations import create_post_request, read_outcome, title_for, update_post_request


def test_an_acknowledged_create_carries_the_new_id() -> None:
    body = {"data": {"createPost": {"__typename": "CreatePostSuccess", "post": {"id": "p-1"}}}}
    outcome = read_outcome("create_post", 200, body)
    assert (outcome.ack_id, outcome.rejected, outcome.codes, outcome.post_ids) == ("p-1", False, [], ["p-1"])


def test_a_mutation_error_type_is_a_rejection_with_its_code() -> None:
    body = {"data": {"createPost": {"__typename": "CreatePostError", "code": "AUTHOR_NOT_FOUND",
                                    "message": "author not found"}}}
    outcome = read_outcome("create_post", 200, body)
    assert (outcome.ack_id, outcome.rejected, outcome.codes) == (None, True, ["AUTHOR_NOT_FOUND"])


def test_graphql_errors_give_codes_and_no_ack() -> None:
    body = {"errors": [{"message": "database unavailable", "extensions": {"code": "DATABASE_UNAVAILABLE"}}],
            "data": None}
    outcome = read_outcome("create_post", 503, body)
    assert (outcome.ack_id, outcome.rejected, outcome.codes, outcome.error) == (
        None, False, ["DATABASE_UNAVAILABLE"], "database unavailable")


def test_a_5xx_without_a_graphql_body_says_so() -> None:
    assert read_outcome("read_posts", 502, None).error == "HTTP 502 without a GraphQL body"
    assert read_outcome("read_posts", None, None).error is None  # the caller describes the exception


def test_reads_teach_post_and_user_ids() -> None:
    body = {"data": {"posts": [{"id": "p1", "author": {"id": "u1"}}, {"id": "p2", "author": {"id": "u2"}}]}}
    outcome = read_outcome("read_posts", 200, body)
    assert (outcome.post_ids, outcome.user_ids) == (["p1", "p2"], ["u1", "u2"])


def test_create_writes_its_key_into_the_title_and_update_leaves_titles_alone() -> None:
    _, variables = create_post_request("k-1", "u1")
    assert variables["input"]["title"] == title_for("k-1") == "chaos k-1"
    assert variables["input"]["idempotencyKey"] == "k-1"
    _, update = update_post_request("k-2", "p1")
    assert "title" not in update["input"]
