"""Requirements on mutations: the directives in the SDL, and AccessRules refusing them.

HTTP, real tokens and "the function did not run" are in
tests/integration/test_http_auth_mutations.py.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest
from graphql import get_directive_values, parse

import fraiseql.types as ft
from fraiseql.auth import AuthError, UserContext, requires_auth, requires_permission, requires_role
from fraiseql.execution.access import AccessRules
from fraiseql.rbac import print_sdl
from fraiseql.rbac.directives import REQUIRES_AUTH, REQUIRES_PERMISSION, REQUIRES_ROLE
from fraiseql.rbac.effective_user import effective_user
from fraiseql.rbac.permissions import PermissionSet
from fraiseql.rbac.resolution import Resolution

registry = ft.Registry()


@ft.type(registry=registry)
class Note:
    id: ft.ID
    text: str


@ft.input(registry=registry)
class NoteInput:
    text: str


@ft.type(registry=registry)
class NoteSaved:
    note: Note


@ft.type(registry=registry)
class NoteRefused:
    message: str
    code: str


@ft.query(registry=registry)
def notes(info: Any) -> list[Note]:
    return []


@ft.mutation(function="fn_note", registry=registry)
@requires_auth
class WriteNote:
    input: NoteInput
    success: NoteSaved
    error: NoteRefused


@requires_role("editor")  # above the mutation decorator: the same class is marked
@ft.mutation(function="fn_note", registry=registry)
class EditNote:
    input: NoteInput
    success: NoteSaved
    error: NoteRefused


@ft.mutation(function="fn_note", registry=registry)
@requires_permission("note:delete")
@requires_role("editor")
class DeleteNote:
    input: NoteInput
    success: NoteSaved
    error: NoteRefused


@ft.mutation(function="fn_note", registry=registry)
class PublicNote:
    input: NoteInput
    success: NoteSaved
    error: NoteRefused


schema = ft.build_schema(registry)


def user(roles: tuple[str, ...] = (), permissions: tuple[str, ...] = ()) -> UserContext:
    return UserContext("u1", frozenset(roles), frozenset(permissions), MappingProxyType({}), 2e9)


def refusal(mutation: str, who: Any) -> str | None:
    operation = parse(f'mutation {{ {mutation}(input: {{text: "x"}}) {{ __typename }} }}').definitions[0]
    try:
        AccessRules(schema).check(schema.mutation_type, operation.selection_set, {}, {}, who)  # type: ignore[arg-type,attr-defined]
    except AuthError as error:
        return f"{error.status} {error.code}"
    return None


def test_the_sdl_shows_each_mutations_directives() -> None:
    sdl = print_sdl(schema)
    assert "writeNote(input: NoteInput!): WriteNoteResult! @requiresAuth\n" in sdl
    assert 'editNote(input: NoteInput!): EditNoteResult! @requiresRole(role: "editor")\n' in sdl
    assert (
        'deleteNote(input: NoteInput!): DeleteNoteResult! @requiresRole(role: "editor")'
        ' @requiresPermission(permission: "note:delete")\n'
    ) in sdl
    assert "publicNote(input: NoteInput!): PublicNoteResult!\n" in sdl


def test_the_directives_are_readable_with_graphql_core() -> None:
    fields = schema.mutation_type.fields  # type: ignore[union-attr]
    assert get_directive_values(REQUIRES_AUTH, fields["writeNote"].ast_node) == {}
    assert get_directive_values(REQUIRES_ROLE, fields["editNote"].ast_node) == {"role": "editor"}
    assert get_directive_values(REQUIRES_PERMISSION, fields["deleteNote"].ast_node) == {"permission": "note:delete"}
    assert fields["publicNote"].ast_node is None


@pytest.mark.parametrize(
    ("mutation", "anonymous", "plain_user", "editor", "editor_who_may_delete"),
    [
        ("writeNote", "401 UNAUTHENTICATED", None, None, None),
        ("editNote", "401 UNAUTHENTICATED", "403 FORBIDDEN", None, None),
        ("deleteNote", "401 UNAUTHENTICATED", "403 FORBIDDEN", "403 FORBIDDEN", None),
        ("publicNote", None, None, None, None),
    ],
)
def test_access_rules_refuse_mutations_before_they_run(
    mutation: str, anonymous: str | None, plain_user: str | None, editor: str | None, editor_who_may_delete: str | None
) -> None:
    assert refusal(mutation, None) == anonymous
    assert refusal(mutation, user()) == plain_user
    assert refusal(mutation, user(roles=("editor",))) == editor
    assert refusal(mutation, user(roles=("editor",), permissions=("note:*",))) == editor_who_may_delete


def test_inherited_roles_and_wildcard_grants_open_a_mutation() -> None:
    resolution = Resolution(1, frozenset({"admin", "editor"}), PermissionSet.of(["*"]))
    assert refusal("deleteNote", effective_user(user(roles=("admin",)), resolution)) is None


def test_a_refused_mutation_in_a_document_refuses_the_whole_operation() -> None:
    operation = parse(
        'mutation { publicNote(input: {text: "a"}) { __typename } '
        'editNote(input: {text: "b"}) { __typename } }'
    ).definitions[0]
    with pytest.raises(AuthError) as caught:
        AccessRules(schema).check(schema.mutation_type, operation.selection_set, {}, {}, user())  # type: ignore[arg-type,attr-defined]
    assert caught.value.code == "FORBIDDEN"
