"""The public surface of ``fraiseql`` is exactly this list, sorted; changing it is a decision."""

import fraiseql

EXPECTED = [
    "Auth0Provider", "AuthError", "Database", "Date", "DateTime", "Decimal", "FraiseQLConfig",
    "FraiseQLError", "ID", "JSON", "JWTProvider", "RbacConfig", "Registry", "Repository",
    "RequestContext", "UserContext", "build_schema", "connection_query", "create_app", "enum", "field",
    "get_query", "input", "list_query", "mutation", "query", "requires_auth",
    "requires_permission", "requires_role", "type",
]


def test_all_lists_exactly_the_public_names() -> None:
    assert sorted(fraiseql.__all__, key=str.lower) == sorted(EXPECTED, key=str.lower)


def test_every_public_name_resolves() -> None:
    for name in fraiseql.__all__:
        assert getattr(fraiseql, name) is not None, name
