"""The blog example as a FraiseQL application: ``uvicorn examples.blog.app:app``.

Reads are served from the view ``v_user`` and the table ``tv_post``, which stores the
documents of the view ``v_post``, kept in sync by triggers (see ``schema.sql``); writes
call ``fn_create_post``, ``fn_update_post``, ``fn_delete_post`` and ``fn_add_comment``.
Every mutation input takes an ``idempotencyKey``: a client that retries with the same
key gets the first result back instead of a second write.

Run it::

    fraiseql db init --example blog --rows 10000    # or examples.blog.database.init_database
    DATABASE_URL=postgresql://postgres@127.0.0.1/blog uvicorn examples.blog.app:app
    FRAISEQL_MAX_IN_FLIGHT=0 FRAISEQL_BREAKER_ENABLED=false ...   # behaviours off, for comparison

Then, for example::

    { posts(limit: 2, orderBy: [{field: publishedAt, direction: DESC}]) { title author { name } } }
    mutation { createPost(input: {title: "Hi", body: "...", authorId: "...",
                                  idempotencyKey: "k-1"}) {
        ... on CreatePostSuccess { post { id } }
        ... on CreatePostError { code message } } }

Access: with ``FRAISEQL_AUTH_*`` set (see ``fraiseql.auth.environment``), bearer tokens
are verified and each user's roles and permissions come from the ``fraiseql_rbac`` tables
that ``rbac.sql`` fills, merged with the token's own claims. Reads, ``createPost``,
``updatePost`` and ``addComment`` stay open to everyone; ``me`` needs a user and
``deletePost`` the permission ``post:delete`` (editors and admins have it through
``post:*`` and ``*``). Introspection shows each caller only what it may use. Without
``FRAISEQL_AUTH_*`` nobody is signed in, so nobody can delete a post.

The declarations use their own ``registry`` so that importing the example never adds
names to the default registry of the process that imports it (the test suite).
"""

from __future__ import annotations

import datetime
import uuid

import fraiseql.types as ft
from fraiseql.auth import requires_auth, requires_permission
from fraiseql.auth.environment import provider_from_environment
from fraiseql.config import FraiseQLConfig
from fraiseql.http import create_app  # re-exported as fraiseql.create_app by the lead
from fraiseql.rbac import RbacConfig
from fraiseql.types import ID

registry = ft.Registry()


# --- types ------------------------------------------------------------------------------


@ft.type(sql_source="v_user", registry=registry)
class User:
    """A person who writes posts and comments."""

    id: ID
    name: str
    email: str
    created_at: datetime.datetime


@ft.type(registry=registry)
class Comment:
    """A comment on a post, in the post's ``comments`` (oldest first)."""

    id: ID
    body: str
    created_at: datetime.datetime
    author: User


# tv_post holds v_post's documents finished: a read is an index scan, not an aggregate of
# every post's comments; projection_of tags cached results with v_post's base tables, and
# reads select the stored text (data_text) rather than converting data on every read.
@ft.type(sql_source="tv_post", projection_of="v_post", text_column="data_text", registry=registry)
class Post:
    """A blog post with its author and comments."""

    id: ID
    title: str
    body: str
    published_at: datetime.datetime | None
    tags: list[str]
    author: User
    comments: list[Comment]

    @ft.field
    def excerpt(self, info, length: int = 80) -> str:
        """The first ``length`` characters of the body."""
        return self.body[:length]


# --- queries ----------------------------------------------------------------------------

posts = ft.list_query(Post, name="posts", registry=registry)
post = ft.get_query(Post, name="post", registry=registry)
posts_connection = ft.connection_query(Post, name="postsConnection", registry=registry)
users = ft.list_query(User, name="users", registry=registry)
user = ft.get_query(User, name="user", registry=registry)
users_connection = ft.connection_query(User, name="usersConnection", registry=registry)


@ft.query(registry=registry)
@requires_auth
async def me(info) -> User | None:
    """The signed-in user (the token's subject), when it names a user of the blog."""
    try:
        user_id = uuid.UUID(info.context["user"].user_id)
    except ValueError:
        return None
    return await info.context["repository"].find_one(User, id=user_id)


@ft.query(registry=registry)
async def post_count(info) -> int:
    """How many posts there are."""
    return await info.context["repository"].count(Post)


# --- mutations --------------------------------------------------------------------------
# Each function answers {"status", "message", "object", "code"}: "success" selects the
# ...Success type (its object field is filled from "object"), anything else ...Error.


@ft.input(registry=registry)
class CreatePostInput:
    title: str
    body: str
    author_id: ID
    tags: list[str] | None = None
    published_at: datetime.datetime | None = None
    idempotency_key: str | None = None


@ft.type(registry=registry)
class CreatePostSuccess:
    message: str
    post: Post


@ft.type(registry=registry)
class CreatePostError:
    message: str
    code: str  # e.g. EMPTY_TITLE, POST_NOT_FOUND (the function's "code", else its "status")


@ft.mutation(function="fn_create_post", invalidates=("tb_post",), registry=registry)
class CreatePost:
    """Write a new post (EMPTY_TITLE, MISSING_BODY, INVALID_TAGS, AUTHOR_NOT_FOUND)."""

    input: CreatePostInput
    success: CreatePostSuccess
    error: CreatePostError


@ft.input(registry=registry)
class UpdatePostInput:
    """Fields left out (or null) keep their value."""

    id: ID
    title: str | None = None
    body: str | None = None
    tags: list[str] | None = None
    published_at: datetime.datetime | None = None
    idempotency_key: str | None = None


@ft.type(registry=registry)
class UpdatePostSuccess:
    message: str
    post: Post


@ft.type(registry=registry)
class UpdatePostError:
    message: str
    code: str  # e.g. EMPTY_TITLE, POST_NOT_FOUND (the function's "code", else its "status")


@ft.mutation(function="fn_update_post", invalidates=("tb_post",), registry=registry)
class UpdatePost:
    """Change a post (POST_NOT_FOUND, EMPTY_TITLE, INVALID_TAGS)."""

    input: UpdatePostInput
    success: UpdatePostSuccess
    error: UpdatePostError


@ft.input(registry=registry)
class DeletePostInput:
    id: ID
    idempotency_key: str | None = None


@ft.type(registry=registry)
class DeletePostSuccess:
    message: str
    post: Post  # as it was before deletion


@ft.type(registry=registry)
class DeletePostError:
    message: str
    code: str  # e.g. EMPTY_TITLE, POST_NOT_FOUND (the function's "code", else its "status")


@ft.mutation(function="fn_delete_post", invalidates=("tb_post", "tb_comment"), registry=registry)
@requires_permission("post:delete")
class DeletePost:
    """Delete a post and its comments (POST_NOT_FOUND)."""

    input: DeletePostInput
    success: DeletePostSuccess
    error: DeletePostError


@ft.input(registry=registry)
class AddCommentInput:
    """``author_id`` defaults to the authenticated user."""

    post_id: ID
    body: str
    author_id: ID | None = None
    idempotency_key: str | None = None


@ft.type(registry=registry)
class AddCommentSuccess:
    message: str
    comment: Comment


@ft.type(registry=registry)
class AddCommentError:
    message: str
    code: str  # e.g. EMPTY_TITLE, POST_NOT_FOUND (the function's "code", else its "status")


@ft.mutation(function="fn_add_comment", invalidates=("tb_comment",), registry=registry)
class AddComment:
    """Comment on a post (EMPTY_BODY, POST_NOT_FOUND, AUTHOR_NOT_FOUND)."""

    input: AddCommentInput
    success: AddCommentSuccess
    error: AddCommentError


# --- the application --------------------------------------------------------------------

schema = ft.build_schema(registry)
# DATABASE_URL is read when the app starts; FRAISEQL_AUTH_* turn on bearer tokens, and
# with them the database's roles and permissions (RBAC needs someone to authorise);
# FRAISEQL_<SETTING> sets any FraiseQLConfig field (FRAISEQL_BREAKER_ENABLED=false, ...),
# which is how the resilience harness starts the app with one behaviour switched off.
auth = provider_from_environment()
app = create_app(
    schema=schema,
    auth=auth,
    rbac=RbacConfig() if auth is not None else None,
    hide_unauthorized_in_introspection=True,
    config=FraiseQLConfig.from_environment(),
)
