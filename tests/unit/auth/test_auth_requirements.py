"""Access requirements, AuthError codes and statuses, and UserContext building."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from fraiseql.auth import (
    AuthError,
    Requirement,
    UserContext,
    check_requirement,
    requirement_of,
    requires_auth,
    requires_permission,
    requires_role,
)
from fraiseql.auth.user_context import UserContextFactory
from fraiseql.errors import FraiseQLError


def user(roles: tuple[str, ...] = (), permissions: tuple[str, ...] = ()) -> UserContext:
    return UserContext("u1", frozenset(roles), frozenset(permissions), MappingProxyType({}), 0.0)


def test_decorators_mark_functions_and_classes_and_stack() -> None:
    @requires_role("admin")
    @requires_permission("posts:write", "posts:read")
    async def resolver() -> None: ...

    @requires_auth
    class Secret:
        pass

    assert requirement_of(resolver) == Requirement(frozenset({"admin"}), frozenset({"posts:write", "posts:read"}))
    assert requirement_of(Secret) == Requirement()
    assert requirement_of(user) is None


def test_check_requirement_statuses() -> None:
    check_requirement(None, None)
    check_requirement(Requirement(), user())
    with pytest.raises(AuthError) as unauthenticated:
        check_requirement(Requirement(), None)
    assert (unauthenticated.value.code, unauthenticated.value.status) == ("UNAUTHENTICATED", 401)
    assert unauthenticated.value.www_authenticate == "Bearer"
    with pytest.raises(AuthError) as forbidden:
        check_requirement(Requirement(roles=frozenset({"admin"})), user(roles=("reader",)))
    assert (forbidden.value.code, forbidden.value.status) == ("FORBIDDEN", 403)
    assert "admin" in forbidden.value.message and "reader" not in forbidden.value.message
    check_requirement(Requirement(frozenset({"a"}), frozenset({"p"})), user(("a", "b"), ("p",)))


def test_auth_error_is_a_fraiseql_error_with_a_status_per_code() -> None:
    error = AuthError("gone", "TOKEN_EXPIRED")
    assert isinstance(error, FraiseQLError)
    assert error.status == 401
    assert error.to_graphql()["extensions"]["code"] == "TOKEN_EXPIRED"
    assert error.www_authenticate == 'Bearer error="invalid_token", error_description="gone"'
    assert AuthError("down", "JWKS_UNAVAILABLE").status == 503
    assert AuthError("x", "FORBIDDEN").status == 403
    assert AuthError("x", "TOKEN_EXPIRED", status=400).status == 400


def test_factory_reads_roles_permissions_and_tenant() -> None:
    claims = {
        "sub": "u1",
        "exp": 10,
        "realm_access": {"roles": ["admin"]},
        "scope": "posts:read posts:write",
        "https://example.com/tenant": "t-9",
    }
    factory = UserContextFactory("sub", "realm_access.roles", "scope", "https://example.com/tenant")
    built = factory(claims)
    assert built.roles == {"admin"}
    assert built.permissions == {"posts:read", "posts:write"}
    assert built.tenant_id == "t-9" and built.expires_at == 10.0
    with pytest.raises(TypeError):
        built.claims["sub"] = "other"  # type: ignore[index]


@pytest.mark.parametrize(
    "claims",
    [{"exp": 1}, {"sub": "", "exp": 1}, {"sub": 5, "exp": 1}, {"sub": "u", "exp": 1, "roles": [1]}, {"sub": "u", "exp": 1, "roles": {"a": 1}}],
)
def test_factory_refuses_unusable_claims(claims: dict) -> None:
    with pytest.raises(AuthError) as caught:
        UserContextFactory()(claims)
    assert caught.value.code == "INVALID_CLAIMS"


async def test_auth0_provider_derives_issuer_and_jwks_url() -> None:
    from fraiseql.auth import Auth0Provider

    provider = Auth0Provider("tenant.eu.auth0.com", audience="https://api.example.com")
    try:
        assert provider.issuer == "https://tenant.eu.auth0.com/"
        assert provider.fetcher.url == "https://tenant.eu.auth0.com/.well-known/jwks.json"
    finally:
        await provider.close()
    for domain in ("", "https://tenant.eu.auth0.com", "tenant.eu.auth0.com/x"):
        with pytest.raises(ValueError):
            Auth0Provider(domain, audience="a")


def test_provider_refuses_plain_http_and_missing_jwks_url() -> None:
    from fraiseql.auth import JWTProvider

    with pytest.raises(ValueError):
        JWTProvider("https://i/", "a", "http://id.example.com/jwks")
    with pytest.raises(ValueError):
        JWTProvider("https://i/", "a", None)
    JWTProvider("https://i/", "a", None, algorithms=("HS256",), hmac_secret=b"k" * 32)
