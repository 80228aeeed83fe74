"""DocumentCache: hits, misses, the LRU bound, and cached rejections."""

from __future__ import annotations

from typing import Any

import pytest

import fraiseql.types as ft
from fraiseql.config import FraiseQLConfig
from fraiseql.errors import GraphQLRequestError
from fraiseql.execution.documents import DocumentCache, PreparedDocument

registry = ft.Registry()


@ft.type(sql_source="v_item", registry=registry)
class Item:
    id: ft.ID
    name: str


items = ft.list_query(Item, name="items", registry=registry)
schema = ft.build_schema(registry)

A, B, C = "{ items { id } }", "{ items { name } }", "query Named { items { id name } }"


def cache(**config: Any) -> DocumentCache:
    return DocumentCache(schema, FraiseQLConfig(**config))


def rejection(documents: DocumentCache, text: str) -> GraphQLRequestError:
    with pytest.raises(GraphQLRequestError) as caught:
        documents.get(text)
    return caught.value


def test_a_miss_prepares_the_document_and_a_hit_returns_the_same_one() -> None:
    documents = cache()
    first = documents.get(A)
    assert isinstance(first, PreparedDocument) and first.text == A
    assert first.operation(None).selection_set.selections[0].name.value == "items"
    assert documents.get(A) is first  # a hit: not parsed or validated again
    assert documents.get(B) is not first and documents.get(B) is documents.get(B)


def test_the_exact_text_is_the_key() -> None:
    documents = cache()
    assert documents.get(A) is not documents.get(A + " ")  # same meaning, different text


def test_the_least_recently_used_document_is_evicted_at_the_bound() -> None:
    documents = cache(document_cache_size=2)
    a, b = documents.get(A), documents.get(B)
    assert documents.get(A) is a  # A is now the most recently used
    documents.get(C)  # over the bound: B, the least recently used, goes
    assert documents.get(A) is a
    assert documents.get(B) is not b  # prepared again
    assert documents.get(C) is not None


def test_a_size_of_zero_keeps_nothing() -> None:
    documents = cache(document_cache_size=0)
    assert documents.get(A) is not documents.get(A)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("{ items { nope } }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ items { id ", "GRAPHQL_PARSE_FAILED"),
        ("{ a: items { id } b: items { id } c: items { id } }", "TOO_MANY_ALIASES"),
    ],
    ids=["invalid", "unparsable", "over-a-limit"],
)
def test_rejections_are_cached_too(text: str, code: str) -> None:
    documents = cache(max_aliases=2)
    first = rejection(documents, text)
    assert first.code == code
    assert rejection(documents, text) is first  # the cached rejection, not a new one


def test_a_cached_rejection_keeps_every_message_and_location() -> None:
    documents = cache()
    error = rejection(documents, "{ items { nope also } }")
    entries = error.all_errors  # type: ignore[attr-defined]
    assert [e["extensions"]["code"] for e in entries] == ["GRAPHQL_VALIDATION_FAILED"] * 2
    assert [e["locations"] for e in entries] == [[{"line": 1, "column": 11}], [{"line": 1, "column": 16}]]
    assert rejection(documents, "{ items { nope also } }").all_errors == entries  # type: ignore[attr-defined]


def test_an_overlong_document_is_refused_before_parsing() -> None:
    documents = cache(max_query_length=20)
    error = rejection(documents, "{ items { id name } }  ")
    assert error.code == "QUERY_TOO_LARGE" and "maximum is 20" in error.message


def test_rejections_and_documents_share_the_bound() -> None:
    documents = cache(document_cache_size=1)
    bad = rejection(documents, "{ nope }")
    documents.get(A)
    assert rejection(documents, "{ nope }") is not bad  # evicted by A, so rejected afresh


def test_operations_are_chosen_by_name() -> None:
    documents = cache()
    prepared = documents.get("query One { items { id } } query Two { items { name } }")
    assert prepared.operation("Two").name.value == "Two"  # type: ignore[union-attr]
    with pytest.raises(GraphQLRequestError, match="operationName is required"):
        prepared.operation(None)
    with pytest.raises(GraphQLRequestError, match="Unknown operation named 'Three'"):
        prepared.operation("Three")
