"""Rows shaped like the blog example's ``v_post`` documents, as PostgreSQL writes them.

``generated_rows`` is deterministic (seeded); ``database_rows`` reads real ones.
Text follows ``jsonb::text``: keys ordered by length then bytes, ``", "`` and
``": "`` separators, non-ASCII written raw, newlines and quotes escaped.
"""

from __future__ import annotations

import json
import random
import uuid
from typing import Any

WORDS = (
    "the a of to and in is it that for on with as this by from at or be an are was not "
    "graphql postgres view jsonb rust pipeline latency cache index query plan tenant schema "
    "request response throughput replica vacuum résumé naïve café Zoë straße 東京 データ 🚀 "
    "\"quoted\""
).split(" ")
NAMES = ["Ann Lee", "Bo Chen", "Zoë Müller", "Jürgen Ørsted", "Amélie Dubois", "李雷", "Sam O'Neil"]
SPEC_AUTHOR = (
    ("field", "id", "id", None),
    ("field", "name", "name", None),
    ("field", "email", "email", None),
    ("field", "createdAt", "created_at", None),
)
POST_SPEC = (
    ("typename", "__typename", "Post"),
    ("field", "id", "id", None),
    ("field", "title", "title", None),
    ("field", "body", "body", None),
    ("field", "publishedAt", "published_at", None),
    ("field", "tags", "tags", None),
    ("field", "author", "author", SPEC_AUTHOR),
    (
        "field",
        "comments",
        "comments",
        (
            ("field", "id", "id", None),
            ("field", "body", "body", None),
            ("field", "createdAt", "created_at", None),
            ("field", "author", "author", SPEC_AUTHOR),
        ),
    ),
)
"""Every field of Post: the output is about as large as the input."""


def jsonb_text(value: Any) -> str:
    """``value`` written the way PostgreSQL's ``jsonb::text`` writes it."""
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (len(k.encode()), k.encode()))
        return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)}: {jsonb_text(value[k])}" for k in keys) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(jsonb_text(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _timestamp(rng: random.Random) -> str:
    return f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:04:05.{rng.randint(0, 999999):06d}+00:00"


def _text(rng: random.Random, words: int) -> str:
    """Sentences of about twelve words, paragraphs of about four sentences."""
    sentences = []
    for index in range(max(1, words // 12)):
        separator = "\n\n" if index and index % 4 == 0 else " "
        sentence = " ".join(rng.choice(WORDS) for _ in range(12)).capitalize() + "."
        sentences.append((separator if index else "") + sentence)
    return "".join(sentences)


def _user(rng: random.Random) -> dict[str, Any]:
    name = rng.choice(NAMES)
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128))),
        "name": name,
        "email": name.split()[0].lower() + "@example.com",
        "created_at": _timestamp(rng),
    }


def _post(rng: random.Random) -> dict[str, Any]:
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128))),
        "title": _text(rng, 8).rstrip("."),
        "body": _text(rng, rng.randint(150, 450)),
        "published_at": None if rng.random() < 0.2 else _timestamp(rng),
        "tags": rng.sample(["rust", "python", "postgres", "graphql", "perf", "chaos"], k=rng.randint(1, 4)),
        "author": _user(rng),
        "comments": [
            {"id": str(uuid.UUID(int=rng.getrandbits(128))), "body": _text(rng, rng.randint(20, 80)),
             "created_at": _timestamp(rng), "author": _user(rng)}
            for _ in range(rng.choice([2, 3, 3, 3, 4]))
        ],
    }


def generated_rows(count: int, seed: int = 2024) -> list[str]:
    """``count`` v_post documents as text, the same for the same seed."""
    rng = random.Random(seed)
    return [jsonb_text(_post(rng)) for _ in range(count)]


def database_rows(url: str, count: int) -> list[str]:
    """Up to ``count`` rows of ``v_post`` from a real database (read as text)."""
    import psycopg

    with psycopg.connect(url) as connection:
        cursor = connection.execute("SELECT data::text FROM v_post LIMIT %s", (count,))
        return [row[0] for row in cursor.fetchall()]
