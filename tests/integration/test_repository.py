"""Repository and SQL builders against a real PostgreSQL: every operator, logic, nesting,
ordering with nulls and several keys, limit/offset, count."""

from __future__ import annotations

import datetime
import enum
import uuid
from collections.abc import Iterator
from types import SimpleNamespace

import psycopg
import pytest
from psycopg.types.json import Jsonb

import fraiseql.types as ft
from fraiseql.db.pool import Database
from fraiseql.db.repository import Repository
from fraiseql.errors import GraphQLRequestError

pytestmark = pytest.mark.integration

SCHEMA = "fq_repository"


def pid(n: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"post-{n}"))


ANN = {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, "ann")), "name": "Ann"}
BOB = {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, "bob")), "name": "Bob"}

# title, views, score, published_at, tags, author, status, featured, day
POSTS = [
    ("Hello world", 10, 1.5, "2024-01-01T10:00:00+00:00", ["sql", "python"], ANN, "PUBLISHED", True, "2024-01-01"),
    ("50% off_sale", 3, 0.25, None, [], BOB, "DRAFT", False, "2024-01-05"),
    ("hello again", 7, 2.0, "2024-02-01T08:30:00+00:00", ["python"], ANN, "PUBLISHED", True, "2024-02-01"),
    ("Zebra", None, None, "2023-12-31T23:59:59+00:00", ["rust"], BOB, "PUBLISHED", False, None),
    ("apple", 7, 3.75, None, ["sql"], ANN, "DRAFT", True, "2024-03-01"),
]


@pytest.fixture(scope="module")
def blog_tables(pg_url: str) -> Iterator[None]:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {SCHEMA}")
        conn.execute(f"CREATE TABLE {SCHEMA}.tb_post (id uuid PRIMARY KEY, data jsonb NOT NULL)")
        conn.execute(f"CREATE VIEW {SCHEMA}.v_post AS SELECT id, data FROM {SCHEMA}.tb_post")
        for n, (title, views, score, published, tags, author, status, featured, day) in enumerate(POSTS):
            document = {"id": pid(n), "title": title, "score": score, "published_at": published,
                        "tags": tags, "author": author, "status": status, "featured": featured,
                        "day": day}
            if views is not None:
                document["views"] = views  # missing key, not null: both must read as null
            conn.execute(f"INSERT INTO {SCHEMA}.tb_post VALUES (%s, %s)", [pid(n), Jsonb(document)])
        yield
        conn.execute(f"DROP SCHEMA {SCHEMA} CASCADE")


@pytest.fixture(scope="module")
def types() -> SimpleNamespace:
    registry = ft.Registry()

    @ft.enum(registry=registry)
    class Status(enum.Enum):
        DRAFT = "draft"
        PUBLISHED = "published"

    @ft.type(registry=registry)
    class Author:
        id: ft.ID
        name: str

    @ft.type(sql_source=f"{SCHEMA}.v_post", registry=registry)
    class Post:
        id: ft.ID
        title: str
        views: int | None
        score: float | None
        published_at: datetime.datetime | None
        tags: list[str]
        author: Author
        status: Status
        featured: bool
        day: datetime.date | None

    return SimpleNamespace(Post=Post, Status=Status)


@pytest.fixture
def repo(database: Database, blog_tables: None) -> Repository:
    return Repository(database, None)


async def titles(repo: Repository, post: type, where: dict, **kwargs: object) -> list[str]:
    return sorted(doc["title"] for doc in await repo.find(post, where, **kwargs))


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({"title": {"eq": "Zebra"}}, ["Zebra"]),
        ({"title": {"neq": "Zebra"}}, ["50% off_sale", "Hello world", "apple", "hello again"]),
        ({"title": {"in": ["Zebra", "apple", "nope"]}}, ["Zebra", "apple"]),
        ({"title": {"nin": ["Zebra", "apple"]}}, ["50% off_sale", "Hello world", "hello again"]),
        ({"title": {"contains": "llo"}}, ["Hello world", "hello again"]),
        ({"title": {"contains": "0%"}}, ["50% off_sale"]),   # % matches itself
        ({"title": {"contains": "f_s"}}, ["50% off_sale"]),  # _ matches itself
        ({"title": {"contains": "_"}}, ["50% off_sale"]),
        ({"title": {"startsWith": "hello"}}, ["hello again"]),
        ({"title": {"like": "%a%"}}, ["50% off_sale", "Zebra", "apple", "hello again"]),
        ({"title": {"ilike": "HELLO%"}}, ["Hello world", "hello again"]),
        ({"title": {"lt": "6"}}, ["50% off_sale"]),  # digits sort first in every collation
        ({"views": {"eq": 7}}, ["apple", "hello again"]),
        ({"views": {"neq": 7}}, ["50% off_sale", "Hello world"]),  # missing views never match
        ({"views": {"gt": 3}}, ["Hello world", "apple", "hello again"]),
        ({"views": {"gte": 7, "lt": 10}}, ["apple", "hello again"]),
        ({"views": {"lte": 3}}, ["50% off_sale"]),
        ({"views": {"in": [3, 10]}}, ["50% off_sale", "Hello world"]),
        ({"views": {"nin": [3, 10]}}, ["apple", "hello again"]),
        ({"views": {"isNull": True}}, ["Zebra"]),
        ({"score": {"gt": 1.5}}, ["apple", "hello again"]),
        ({"score": {"in": [0.25, 2]}}, ["50% off_sale", "hello again"]),
        ({"publishedAt": {"gte": datetime.datetime(2024, 1, 1, 10, tzinfo=datetime.timezone.utc)}},
         ["Hello world", "hello again"]),
        ({"published_at": {"lt": "2024-01-01T00:00:00Z"}}, ["Zebra"]),
        ({"published_at": {"isNull": True}}, ["50% off_sale", "apple"]),
        ({"published_at": {"isNull": False}}, ["Hello world", "Zebra", "hello again"]),
        ({"day": {"gt": datetime.date(2024, 1, 5)}}, ["apple", "hello again"]),
        ({"featured": {"eq": True}}, ["Hello world", "apple", "hello again"]),
        ({"featured": {"neq": True}}, ["50% off_sale", "Zebra"]),
        ({"tags": {"contains": "sql"}}, ["Hello world", "apple"]),
        ({"tags": {"contains": "go"}}, []),
        ({"status": {"eq": "DRAFT"}}, ["50% off_sale", "apple"]),
        ({"status": {"in": ["PUBLISHED"]}}, ["Hello world", "Zebra", "hello again"]),
        ({"id": {"eq": pid(3)}}, ["Zebra"]),
        ({"id": {"in": [pid(0), pid(4)]}}, ["Hello world", "apple"]),
        ({"id": {"nin": [pid(0), pid(4)]}}, ["50% off_sale", "Zebra", "hello again"]),
        ({"author": {"name": {"eq": "Bob"}}}, ["50% off_sale", "Zebra"]),
        ({"author": {"id": {"eq": ANN["id"]}}, "views": {"eq": 7}}, ["apple", "hello again"]),
        ({"or": [{"title": {"eq": "Zebra"}}, {"views": {"gte": 10}}]}, ["Hello world", "Zebra"]),
        ({"and": [{"featured": {"eq": True}}, {"status": {"eq": "DRAFT"}}]}, ["apple"]),
        ({"not": {"author": {"name": {"eq": "Ann"}}}}, ["50% off_sale", "Zebra"]),
        ({"or": []}, []),
        ({"not": {"or": [{"title": {"startsWith": "h"}}, {"title": {"startsWith": "H"}}]},
          "author": {"or": [{"name": {"eq": "Ann"}}, {"name": {"eq": "Bob"}}]}},
         ["50% off_sale", "Zebra", "apple"]),
    ],
)
async def test_every_operator_returns_the_right_rows(
    repo: Repository, types: SimpleNamespace, where: dict, expected: list[str]
) -> None:
    assert await titles(repo, types.Post, where) == expected


async def test_a_view_name_without_a_type_infers_casts(repo: Repository) -> None:
    view = f"{SCHEMA}.v_post"
    assert await titles(repo, view, {"views": {"gt": 5}, "author": {"name": {"eq": "Ann"}}}) == [
        "Hello world", "apple", "hello again",
    ]
    assert await repo.count(view) == len(POSTS)


async def test_ordering_with_nulls_and_several_keys(repo: Repository, types: SimpleNamespace) -> None:
    async def order(order_by: list) -> list[str]:
        return [doc["title"] for doc in await repo.find(types.Post, order_by=order_by)]

    # Numbers sort as numbers (10 after 7), NULLs where asked, ties broken by the next key.
    assert await order([{"field": "views", "direction": "DESC", "nulls": "LAST"}, "title"]) == [
        "Hello world", "apple", "hello again", "50% off_sale", "Zebra",
    ]
    assert await order([{"field": "views", "nulls": "FIRST"}, {"field": "title", "direction": "DESC"}]) == [
        "Zebra", "50% off_sale", "hello again", "apple", "Hello world",
    ]
    assert (await order([("published_at", "desc"), ("title", "asc")]))[:3] == [
        "50% off_sale", "apple", "hello again",  # DESC puts NULLs first by default
    ]


async def test_limit_offset_and_count(repo: Repository, types: SimpleNamespace) -> None:
    ordered = ["id"]
    everything = [d["id"] for d in await repo.find(types.Post, order_by=ordered)]
    assert everything == sorted(pid(n) for n in range(len(POSTS)))
    page = [d["id"] for d in await repo.find(types.Post, order_by=ordered, limit=2, offset=1)]
    assert page == everything[1:3]
    assert await repo.find(types.Post, limit=0) == []
    assert await repo.count(types.Post, {"status": {"eq": "DRAFT"}}) == 2
    assert len(await repo.find_texts(types.Post, {"featured": {"eq": True}})) == 3


async def test_find_one(repo: Repository, types: SimpleNamespace) -> None:
    assert (await repo.find_one(types.Post, id=pid(2)))["title"] == "hello again"
    assert await repo.find_one(types.Post, id=str(uuid.uuid4())) is None
    first = await repo.find_one(types.Post, {"featured": {"eq": True}}, order_by=["title"])
    assert first["title"] == "Hello world"


async def test_limit_above_the_maximum_is_a_clear_error(database: Database, types: SimpleNamespace) -> None:
    repo = Repository(database, None, max_limit=3)
    with pytest.raises(GraphQLRequestError, match="limit must be at most 3, got 4"):
        await repo.find(types.Post, limit=4)


async def test_values_are_parameters_not_sql(repo: Repository, types: SimpleNamespace) -> None:
    hostile = "x' OR '1'='1"
    assert await titles(repo, types.Post, {"title": {"eq": hostile}}) == []
    assert await titles(repo, types.Post, {"title": {"like": hostile}}) == []
    with pytest.raises(GraphQLRequestError, match="unknown field"):
        await repo.find(types.Post, {"title') OR true --": {"eq": "x"}})
