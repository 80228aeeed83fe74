"""The blog example as an idiomatic Strawberry app, for the end-to-end benchmark.

Written the way the Strawberry documentation suggests: ``@strawberry.type`` classes,
async resolvers that run SQL with psycopg 3 (async pool, ``dict_row``), a DataLoader per
request for authors and one for comments (no N+1 queries), served by Starlette +
uvicorn. It reads the example's tables (``tb_user``, ``tb_post``, ``tb_comment``)
directly; the field names and answers match FraiseQL's ``examples.blog.app``.

Run (inside benchmarks/e2e/.venv-strawberry, which has graphql-core 3.3)::

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/blog \\
        uvicorn benchmarks.e2e.strawberry_app:app --port 8001
"""

from __future__ import annotations

import contextlib
import datetime
import os
import uuid
from collections import defaultdict
from typing import Annotated

import strawberry
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.dataloader import DataLoader
from strawberry.extensions import ParserCache, ValidationCache

POOL = AsyncConnectionPool(
    os.environ.get("DATABASE_URL", ""),
    min_size=1,
    max_size=10,  # FraiseQL's and PostGraphile's default pool size too
    open=False,
    kwargs={"autocommit": True, "row_factory": dict_row, "gssencmode": "disable"},
)


async def fetch_all(query: str, params: tuple | list = ()) -> list[dict]:
    async with POOL.connection() as conn:
        cursor = await conn.execute(query, params)
        return await cursor.fetchall()


# --- loaders (one set per request) ---------------------------------------------------


async def load_users(ids: list[uuid.UUID]) -> list[User | None]:
    rows = await fetch_all(
        "SELECT id, name, email, created_at FROM tb_user WHERE id = ANY(%s)", (list(ids),)
    )
    by_id = {row["id"]: User.from_row(row) for row in rows}
    return [by_id.get(i) for i in ids]


async def load_comments(post_ids: list[uuid.UUID]) -> list[list[Comment]]:
    rows = await fetch_all(
        "SELECT id, post_id, author_id, body, created_at FROM tb_comment"
        " WHERE post_id = ANY(%s) ORDER BY created_at, id",
        (list(post_ids),),
    )
    by_post: dict[uuid.UUID, list[Comment]] = defaultdict(list)
    for row in rows:
        by_post[row.pop("post_id")].append(Comment.from_row(row))
    return [by_post.get(i, []) for i in post_ids]


class BlogGraphQL(GraphQL):
    async def get_context(self, request, response) -> dict:
        return {
            "user_loader": DataLoader(load_fn=load_users),
            "comments_loader": DataLoader(load_fn=load_comments),
        }


# --- types ------------------------------------------------------------------------------


@strawberry.type
class User:
    id: strawberry.ID
    name: str
    email: str
    created_at: datetime.datetime

    @classmethod
    def from_row(cls, row: dict) -> User:
        return cls(**{**row, "id": str(row["id"])})


@strawberry.type
class Comment:
    id: strawberry.ID
    body: str
    created_at: datetime.datetime
    author_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: dict) -> Comment:
        return cls(**{**row, "id": str(row["id"])})

    @strawberry.field
    async def author(self, info: strawberry.Info) -> User:
        return await info.context["user_loader"].load(self.author_id)


@strawberry.type
class Post:
    id: strawberry.ID
    title: str
    body: str
    published_at: datetime.datetime | None
    tags: list[str]
    author_id: strawberry.Private[uuid.UUID]
    row_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: dict) -> Post:
        return cls(**{**row, "id": str(row["id"]), "row_id": row["id"]})

    @strawberry.field
    async def author(self, info: strawberry.Info) -> User:
        return await info.context["user_loader"].load(self.author_id)

    @strawberry.field
    async def comments(self, info: strawberry.Info) -> list[Comment]:
        return await info.context["comments_loader"].load(self.row_id)


POST_COLUMNS = "id, title, body, published_at, tags, author_id"


@strawberry.type
class Query:
    @strawberry.field
    async def post(self, id: strawberry.ID) -> Post | None:
        rows = await fetch_all(f"SELECT {POST_COLUMNS} FROM tb_post WHERE id = %s", (id,))
        return Post.from_row(rows[0]) if rows else None

    @strawberry.field
    async def posts(self, limit: int = 20, offset: int = 0) -> list[Post]:
        rows = await fetch_all(
            f"SELECT {POST_COLUMNS} FROM tb_post ORDER BY id LIMIT %s OFFSET %s",
            (min(limit, 1000), offset),
        )
        return [Post.from_row(row) for row in rows]


# --- mutation -------------------------------------------------------------------------


@strawberry.input
class CreatePostInput:
    title: str
    body: str
    author_id: strawberry.ID
    tags: list[str] | None = None
    published_at: datetime.datetime | None = None


@strawberry.type
class CreatePostSuccess:
    message: str
    post: Post


@strawberry.type
class CreatePostError:
    message: str
    code: str


CreatePostResult = Annotated[
    CreatePostSuccess | CreatePostError, strawberry.union("CreatePostResult")
]


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_post(self, input: CreatePostInput) -> CreatePostResult:
        title = input.title.strip()
        if not title:
            return CreatePostError(message="title must not be empty", code="EMPTY_TITLE")
        async with POOL.connection() as conn, conn.transaction():
            cursor = await conn.execute("SELECT 1 FROM tb_user WHERE id = %s", (input.author_id,))
            if await cursor.fetchone() is None:
                return CreatePostError(message="author not found", code="AUTHOR_NOT_FOUND")
            cursor = await conn.execute(
                f"INSERT INTO tb_post (author_id, title, body, tags, published_at)"
                f" VALUES (%s, %s, %s, %s, %s) RETURNING {POST_COLUMNS}",
                (input.author_id, title, input.body, input.tags or [], input.published_at),
            )
            row = await cursor.fetchone()
        return CreatePostSuccess(message="post created", post=Post.from_row(row))


# Strawberry's documented performance extensions: parse and validate a document once
# (FraiseQL keeps an LRU of validated documents too).
schema = strawberry.Schema(
    query=Query, mutation=Mutation, extensions=[ParserCache(maxsize=100), ValidationCache(maxsize=100)]
)


@contextlib.asynccontextmanager
async def lifespan(_app: Starlette):
    await POOL.open(wait=True)
    try:
        yield
    finally:
        await POOL.close()


graphql_app = BlogGraphQL(schema, graphql_ide=None)
app = Starlette(
    routes=[Route("/graphql", graphql_app, methods=["GET", "POST"])], lifespan=lifespan
)
