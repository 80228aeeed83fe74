"""VisibleSchemas: per-caller views for introspection, shared by callers with equal rights."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest
from graphql import graphql_sync

import fraiseql.types as ft
from fraiseql.auth import UserContext, requires_auth, requires_permission, requires_role
from fraiseql.rbac import PermissionSourceUnavailable, VisibleSchemas
from fraiseql.rbac.effective_user import claims_only_user

registry = ft.Registry()


@ft.type(registry=registry)
class Article:
    id: ft.ID
    title: str

    @ft.field
    @requires_permission("article:audit")
    def audit_note(self, info: Any) -> str | None:
        return None


@ft.type(registry=registry)
@requires_role("admin")
class AdminReport:
    total: int


@ft.type(registry=registry)
class Unused:
    """Declared for its own sake: no root reaches it, every view keeps it."""

    value: int


@ft.query(registry=registry)
def articles(info: Any) -> list[Article]:
    return []


@ft.query(registry=registry)
@requires_auth
def my_articles(info: Any) -> list[Article]:
    return []


@ft.query(registry=registry)
def report(info: Any) -> AdminReport | None:  # public field, protected type: hidden with it
    return None


@ft.input(registry=registry)
class ArchiveInput:
    id: ft.ID


@ft.type(registry=registry)
class Archived:
    article: Article


@ft.type(registry=registry)
class ArchiveRefused:
    message: str


@ft.mutation(function="fn_archive", registry=registry)
@requires_permission("article:archive")
class ArchiveArticle:
    input: ArchiveInput
    success: Archived
    error: ArchiveRefused


schema = ft.build_schema(registry)

TYPES = "{ __schema { mutationType { name } types { name } } }"


def user(roles: tuple[str, ...] = (), permissions: tuple[str, ...] = ()) -> UserContext:
    return UserContext("u", frozenset(roles), frozenset(permissions), MappingProxyType({}), 2e9)


def type_names(view: Any) -> set[str]:
    result = graphql_sync(view, TYPES)
    assert result.errors is None, result.errors
    return {t["name"] for t in result.data["__schema"]["types"] if not t["name"].startswith("__")}  # type: ignore[index]


def fields_of(view: Any, type_name: str) -> set[str] | None:
    result = graphql_sync(view, f'{{ __type(name: "{type_name}") {{ fields {{ name }} }} }}')
    assert result.errors is None, result.errors
    found = result.data["__type"]  # type: ignore[index]
    return None if found is None else {f["name"] for f in found["fields"]}


def test_anonymous_callers_see_only_the_public_api() -> None:
    view = VisibleSchemas(schema).for_user(None)
    assert fields_of(view, "Query") == {"articles"}  # myArticles needs a user; report's type is hidden
    assert fields_of(view, "Article") == {"id", "title"}
    assert fields_of(view, "AdminReport") is None
    assert graphql_sync(view, TYPES).data["__schema"]["mutationType"] is None  # type: ignore[index]
    hidden = {"AdminReport", "Mutation", "ArchiveInput", "Archived", "ArchiveRefused", "ArchiveArticleResult"}
    assert not hidden & type_names(view)
    assert "Unused" in type_names(view)


def test_each_right_opens_what_it_guards() -> None:
    views = VisibleSchemas(schema)
    signed_in = views.for_user(user())
    assert fields_of(signed_in, "Query") == {"articles", "myArticles"}
    admin = views.for_user(user(roles=("admin",)))
    assert fields_of(admin, "Query") == {"articles", "myArticles", "report"}
    assert fields_of(admin, "AdminReport") == {"total"}
    archivist = views.for_user(user(permissions=("article:*",)))  # a wildcard counts
    assert fields_of(archivist, "Mutation") == {"archiveArticle"}
    assert fields_of(archivist, "Article") == {"id", "title", "auditNote"}
    assert {"ArchiveInput", "Archived", "ArchiveRefused", "ArchiveArticleResult"} <= type_names(archivist)


def test_the_full_schema_is_untouched() -> None:
    VisibleSchemas(schema).for_user(None)
    assert set(schema.query_type.fields) == {"articles", "myArticles", "report"}  # type: ignore[union-attr]
    assert "auditNote" in schema.get_type("Article").fields  # type: ignore[union-attr]


def test_callers_with_equal_rights_share_one_view() -> None:
    views = VisibleSchemas(schema)
    first = views.for_user(user(roles=("reader",)))
    assert views.for_user(user(roles=("writer",), permissions=("comment:read",))) is first
    assert views.for_user(user(roles=("admin",))) is not first
    assert views.built == 2


def test_the_number_of_views_is_bounded() -> None:
    views = VisibleSchemas(schema, max_views=1)
    anonymous = views.for_user(None)
    views.for_user(user())
    assert views.for_user(None) is not anonymous and views.built == 3


def test_a_failing_permission_source_hides_what_the_claims_do_not_grant() -> None:
    failed = claims_only_user(user(roles=("admin",)), PermissionSourceUnavailable())
    view = VisibleSchemas(schema).for_user(failed)
    assert fields_of(view, "Query") == {"articles", "myArticles", "report"}  # the token says admin
    assert fields_of(view, "Mutation") is None  # article:archive would need the database


def test_a_schema_without_requirements_is_its_own_view() -> None:
    open_registry = ft.Registry()

    @ft.query(registry=open_registry)
    def answer(info: Any) -> int:
        return 42

    open_schema = ft.build_schema(open_registry)
    assert VisibleSchemas(open_schema).for_user(None) is open_schema


def test_when_every_query_is_protected_an_anonymous_caller_sees_an_empty_query_type() -> None:
    closed = ft.Registry()

    @ft.query(registry=closed)
    @requires_auth
    def secret(info: Any) -> int:
        return 1

    view = VisibleSchemas(ft.build_schema(closed)).for_user(None)
    assert fields_of(view, "Query") == set()


def test_max_views_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_views"):
        VisibleSchemas(schema, max_views=0)
