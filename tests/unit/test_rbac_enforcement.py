"""check_access with claims-only and effective users, field denial modes, directives in the SDL."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest
from graphql import get_directive_values, graphql_sync

import fraiseql.types as ft
from fraiseql.auth import AuthError, UserContext, requires_auth, requires_permission, requires_role
from fraiseql.auth.requirements import Requirement
from fraiseql.execution.access import AccessRules
from fraiseql.rbac import PermissionSourceUnavailable, check_access, print_sdl
from fraiseql.rbac.directives import REQUIRES_PERMISSION, REQUIRES_ROLE
from fraiseql.rbac.effective_user import claims_only_user, effective_user
from fraiseql.rbac.permissions import PermissionSet
from fraiseql.rbac.resolution import Resolution
from fraiseql.schema.builder import SchemaError


def token_user(roles: tuple[str, ...] = (), permissions: tuple[str, ...] = ()) -> UserContext:
    return UserContext("u1", frozenset(roles), frozenset(permissions), MappingProxyType({}), 2e9, "acme")


def needs(roles: tuple[str, ...] = (), permissions: tuple[str, ...] = ()) -> Requirement:
    return Requirement(frozenset(roles), frozenset(permissions))


def code_of(requirement: Requirement, user: Any) -> str | None:
    try:
        check_access(requirement, user)
    except AuthError as error:
        return error.code
    return None


def test_no_requirement_lets_anyone_through() -> None:
    assert code_of(None, None) is None  # type: ignore[arg-type]


def test_a_requirement_without_a_user_is_401() -> None:
    assert code_of(needs(), None) == "UNAUTHENTICATED"


def test_token_claims_with_wildcards_are_honoured() -> None:
    user = token_user(permissions=("post:*",))
    assert code_of(needs(permissions=("post:write",)), user) is None
    assert code_of(needs(permissions=("comment:write",)), user) == "FORBIDDEN"


def test_effective_user_inherits_roles_and_grants() -> None:
    resolution = Resolution(3, frozenset({"editor", "author", "viewer"}), PermissionSet.of(["post:*"]))
    user = effective_user(token_user(roles=("editor",)), resolution)
    assert code_of(needs(roles=("viewer",), permissions=("post:delete",)), user) is None
    assert user.has_permission("post:delete") and user.has_role("author")
    assert code_of(needs(roles=("admin",)), user) == "FORBIDDEN"


def test_a_failed_source_denies_with_503_what_the_claims_do_not_grant() -> None:
    user = claims_only_user(token_user(roles=("viewer",)), PermissionSourceUnavailable())
    assert code_of(needs(roles=("viewer",)), user) is None  # the token itself says so
    assert code_of(needs(roles=("editor",)), user) == "PERMISSION_SOURCE_UNAVAILABLE"
    with pytest.raises(PermissionSourceUnavailable) as caught:
        check_access(needs(permissions=("post:read",)), user)
    assert caught.value.status == 503


registry = ft.Registry()


@ft.type(sql_source="v_user", registry=registry)
@requires_auth
class Member:
    id: ft.ID
    name: str

    @ft.field
    @requires_permission("member:read_email")
    def email(self, info: Any) -> str | None:
        return "x@example.com"


@ft.query(registry=registry)
@requires_role("admin")
def members(info: Any) -> list[Member]:
    return [{"id": "1", "name": "Ann"}]  # type: ignore[list-item]


@ft.query(registry=registry)
def open_member(info: Any) -> Member:
    return {"id": "2", "name": "Bo"}  # type: ignore[return-value]


def test_directives_are_declared_and_applied_in_the_sdl() -> None:
    schema = ft.build_schema(registry)
    sdl = print_sdl(schema)
    assert "directive @requiresRole(role: String!) repeatable on OBJECT | FIELD_DEFINITION" in sdl
    assert "directive @requiresAuth on OBJECT | FIELD_DEFINITION" in sdl
    assert "type Member @requiresAuth {" in sdl
    assert 'email: String @requiresPermission(permission: "member:read_email")' in sdl
    assert 'members: [Member!]! @requiresRole(role: "admin")' in sdl
    field = schema.query_type.fields["members"]  # type: ignore[union-attr]
    assert get_directive_values(REQUIRES_ROLE, field.ast_node) == {"role": "admin"}
    email = schema.get_type("Member").fields["email"]  # type: ignore[union-attr]
    assert get_directive_values(REQUIRES_PERMISSION, email.ast_node) == {"permission": "member:read_email"}


def test_introspection_lists_the_directives() -> None:
    result = graphql_sync(ft.build_schema(registry), "{ __schema { directives { name } } }")
    names = {d["name"] for d in result.data["__schema"]["directives"]}  # type: ignore[index]
    assert {"requiresAuth", "requiresRole", "requiresPermission"} <= names


def _check(schema: Any, query: str, user: Any) -> None:
    from graphql import parse

    operation = parse(query).definitions[0]
    AccessRules(schema).check(schema.query_type, operation.selection_set, {}, {}, user)  # type: ignore[attr-defined]


def test_error_mode_refuses_the_request_for_a_field() -> None:
    schema = ft.build_schema(registry)
    with pytest.raises(AuthError) as caught:
        _check(schema, "{ openMember { name email } }", token_user())
    assert caught.value.code == "FORBIDDEN"


def test_null_mode_nulls_the_field_with_an_error_entry() -> None:
    schema = ft.build_schema(registry, field_denial="null")
    user = token_user()
    _check(schema, "{ openMember { name email } }", user)  # the field is no reason to refuse
    result = graphql_sync(schema, "{ openMember { name email } }", context_value={"user": user})
    assert result.data == {"openMember": {"name": "Bo", "email": None}}
    assert result.errors and result.errors[0].path == ["openMember", "email"]
    assert result.errors[0].original_error.code == "FORBIDDEN"  # type: ignore[union-attr]
    allowed = token_user(permissions=("member:*",))
    result = graphql_sync(schema, "{ openMember { email } }", context_value={"user": allowed})
    assert result.data == {"openMember": {"email": "x@example.com"}} and not result.errors


def test_null_mode_still_refuses_queries_and_types() -> None:
    schema = ft.build_schema(registry, field_denial="null")
    with pytest.raises(AuthError):
        _check(schema, "{ members { name } }", token_user())
    with pytest.raises(AuthError) as caught:
        _check(schema, "{ openMember { name } }", None)
    assert caught.value.code == "UNAUTHENTICATED"


def test_an_unknown_field_denial_mode_is_a_schema_error() -> None:
    with pytest.raises(SchemaError):
        ft.build_schema(registry, field_denial="hide")
