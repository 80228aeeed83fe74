"""Deterministic seed data for the blog example.

Everything is derived from md5 of a row's ordinal, never from ``random()`` or
``now()``: the same ``posts`` count gives byte-identical documents on every
load, on every machine. The statements are set-based (``generate_series``), so
10,000 posts with their users and comments load in about a second.

Example::

    async with await psycopg.AsyncConnection.connect(url) as conn:
        counts = await load_seed(conn, posts=1_000, progress=print)
        # SeedCounts(users=100, posts=1000, comments=...)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from psycopg import sql

# One author for every POSTS_PER_USER posts (at least one author).
POSTS_PER_USER = 10

# A non-negative 28-bit integer from md5(text): the seed's only source of variety.
_HASH_FUNCTION = """
CREATE FUNCTION pg_temp.seed_hash(value text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$ SELECT ('x' || substr(md5(value), 1, 7))::bit(28)::integer $$
"""

_USERS = """
INSERT INTO tb_user (id, name, email, created_at)
SELECT md5('blog-user-' || i)::uuid,
       (ARRAY['Ada','Grace','Alan','Edsger','Barbara','Donald','Frances','Ken',
              'Margaret','Niklaus','Radia','Tony'])[1 + pg_temp.seed_hash('first-' || i) % 12]
       || ' ' ||
       (ARRAY['Lovelace','Hopper','Turing','Dijkstra','Liskov','Knuth','Allen',
              'Thompson','Hamilton','Wirth','Perlman','Hoare'])[1 + pg_temp.seed_hash('last-' || i) % 12],
       'user' || i || '@example.com',
       timestamptz '2023-01-01 00:00:00+00' + i * interval '7 minutes'
FROM generate_series(1, {users}) AS i
"""

_POSTS = """
WITH words(w) AS (
    SELECT ARRAY['postgres','graphql','view','index','query','schema','function',
                 'trigger','rust','python','cache','latency','replica','vacuum',
                 'planner','json','tuple','lock','snapshot','backup']
), tag_names(t) AS (
    SELECT ARRAY['databases','graphql','performance','rust','python','devops',
                 'testing','security','tutorial','release']
)
INSERT INTO tb_post (id, author_id, title, body, tags, published_at, created_at, updated_at)
SELECT md5('blog-post-' || i)::uuid,
       md5('blog-user-' || (1 + pg_temp.seed_hash('author-' || i) % {users}))::uuid,
       initcap(w[1 + pg_temp.seed_hash('t1-' || i) % 20]) || ' and '
           || w[1 + pg_temp.seed_hash('t2-' || i) % 20] || ', part ' || i,
       'Notes on ' || w[1 + pg_temp.seed_hash('b1-' || i) % 20] || ' and '
           || w[1 + pg_temp.seed_hash('b2-' || i) % 20] || '. '
           || repeat('The ' || w[1 + pg_temp.seed_hash('b3-' || i) % 20]
                     || ' behaves as the ' || w[1 + pg_temp.seed_hash('b4-' || i) % 20]
                     || ' predicts. ', 1 + pg_temp.seed_hash('b5-' || i) % 4),
       ARRAY(SELECT DISTINCT t[1 + pg_temp.seed_hash('tag-' || i || '-' || k) % 10]
             FROM generate_series(1, pg_temp.seed_hash('tags-' || i) % 4) AS k
             ORDER BY 1),
       CASE WHEN pg_temp.seed_hash('published-' || i) % 5 <> 0
            THEN timestamptz '2024-01-01 00:00:00+00' + i * interval '13 minutes' + interval '1 hour'
       END,
       timestamptz '2024-01-01 00:00:00+00' + i * interval '13 minutes',
       timestamptz '2024-01-01 00:00:00+00' + i * interval '13 minutes'
FROM generate_series(1, {posts}) AS i, words, tag_names
"""

# 0 to 5 comments per post, a quarter of a second apart at most, all after the post.
_COMMENTS = """
INSERT INTO tb_comment (id, post_id, author_id, body, created_at)
SELECT md5('blog-comment-' || i || '-' || k)::uuid,
       md5('blog-post-' || i)::uuid,
       md5('blog-user-' || (1 + pg_temp.seed_hash('commenter-' || i || '-' || k) % {users}))::uuid,
       (ARRAY['Great post!','I disagree with the second part.','Thanks, this helped.',
              'Could you share the query plan?','Works on PostgreSQL 15 too.',
              'What about replicas?'])[1 + pg_temp.seed_hash('comment-' || i || '-' || k) % 6],
       timestamptz '2024-01-01 00:00:00+00' + i * interval '13 minutes' + k * interval '17 minutes'
FROM generate_series(1, {posts}) AS i,
     generate_series(1, pg_temp.seed_hash('comments-' || i) % 6) AS k
"""


@dataclass(frozen=True)
class SeedCounts:
    """How many rows the seed wrote."""

    users: int
    posts: int
    comments: int


def user_count(posts: int) -> int:
    """The number of authors seeded for ``posts`` posts."""
    return max(1, posts // POSTS_PER_USER)


async def load_seed(
    conn: psycopg.AsyncConnection,
    posts: int = 10_000,
    *,
    progress: Callable[[str], None] | None = None,
) -> SeedCounts:
    """Insert ``posts`` posts, their authors and comments into empty tables.

    Runs in the caller's transaction (nothing is committed here).
    """
    if posts < 0:
        raise ValueError(f"posts must be >= 0, got {posts}")
    # Literals rather than parameters: the counts are trusted integers, and the
    # statements then keep their SQL `%` (modulo) unescaped.
    params = {"posts": sql.Literal(posts), "users": sql.Literal(user_count(posts))}
    report = progress or (lambda _message: None)
    await conn.execute(_HASH_FUNCTION)
    counts = []
    for label, statement in (("users", _USERS), ("posts", _POSTS), ("comments", _COMMENTS)):
        cursor = await conn.execute(sql.SQL(statement).format(**params))
        counts.append(cursor.rowcount)
        report(f"seeded {cursor.rowcount} {label}")
    await conn.execute("DROP FUNCTION pg_temp.seed_hash(text)")
    return SeedCounts(*counts)
