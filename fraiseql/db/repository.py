"""The repository: documents from views, for custom resolvers and application code.

``find`` and friends take an ``@type`` class with ``sql_source`` (filters are checked
against its fields and cast by their types) or a bare view name (kinds are inferred
from the filter values). Filters and ordering have the shapes of the GraphQL
``where`` / ``orderBy`` arguments; every value is a parameter. Every statement here is a
read, so each is retried after transient failures (``Database.read_retry``).

Example::

    repo = Repository(db, RequestContext(user_id="42"))
    posts = await repo.find(Post, where={"tags": {"contains": "sql"}},
                            order_by=[{"field": "published_at", "direction": "DESC"}], limit=10)
    total = await repo.count("v_post")
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from fraiseql.context import RequestContext
from fraiseql.db.pool import Database
from fraiseql.sql import (
    DEFAULT_MAX_LIMIT,
    UNTYPED,
    DocumentShape,
    build_count,
    build_select,
    build_select_by_id,
)
from fraiseql.types.documents import document_shape, type_definition


def _text_column(type_or_view: type | str) -> str | None:
    return None if isinstance(type_or_view, str) else type_definition(type_or_view).text_column


def _source_and_shape(type_or_view: type | str) -> tuple[str, DocumentShape]:
    if isinstance(type_or_view, str):
        return type_or_view, UNTYPED
    definition = type_definition(type_or_view)
    if not definition.sql_source:
        raise TypeError(f"{type_or_view.__name__} has no sql_source: declare @type(sql_source=...)")
    return definition.sql_source, document_shape(type_or_view)


class Repository:
    """Reads documents from views through one Database, under one request context."""

    def __init__(
        self,
        db: Database,
        context: RequestContext | None = None,
        *,
        max_limit: int = DEFAULT_MAX_LIMIT,
    ) -> None:
        self.db = db
        self.context = context
        self.max_limit = max_limit

    async def find_texts(
        self,
        type_or_view: type | str,
        where: Mapping[str, Any] | None = None,
        order_by: Sequence[Any] | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> list[str]:
        """The matching documents as raw JSON texts (for the fast path: no decoding)."""
        source, shape = _source_and_shape(type_or_view)
        query, params = build_select(
            source, shape, where=where, order_by=order_by, limit=limit, offset=offset,
            max_limit=self.max_limit, text_column=_text_column(type_or_view),
        )
        return await self.db.fetch_texts(query, params, context=self.context, retry=True)

    async def find(
        self,
        type_or_view: type | str,
        where: Mapping[str, Any] | None = None,
        order_by: Sequence[Any] | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> list[dict[str, Any]]:
        """The matching documents, decoded (at most ``limit``, default ``max_limit``)."""
        texts = await self.find_texts(type_or_view, where, order_by, limit, offset)
        return [json.loads(text) for text in texts]

    async def find_one(
        self,
        type_or_view: type | str,
        where: Mapping[str, Any] | None = None,
        order_by: Sequence[Any] | None = None,
        *,
        id: Any = None,  # noqa: A002 - mirrors the GraphQL argument
    ) -> dict[str, Any] | None:
        """The first matching document, or None; ``id=`` looks up the view's id column."""
        if id is not None:
            source, _shape = _source_and_shape(type_or_view)
            query, params = build_select_by_id(source, id, text_column=_text_column(type_or_view))
            text = await self.db.fetch_text(query, params, context=self.context, retry=True)
            return None if text is None else json.loads(text)
        found = await self.find(type_or_view, where, order_by, limit=1)
        return found[0] if found else None

    async def count(self, type_or_view: type | str, where: Mapping[str, Any] | None = None) -> int:
        """How many rows match ``where``."""
        source, shape = _source_and_shape(type_or_view)
        query, params = build_count(source, shape, where=where)
        return int(await self.db.fetch_value(query, params, context=self.context, retry=True))
