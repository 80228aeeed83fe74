"""Authentication and authorization: JWT providers, the JWKS fetcher, access decorators.

Example::

    from fraiseql.auth import JWTProvider, requires_role

    provider = JWTProvider(issuer, audience, jwks_url)
    user = await provider.validate(token)
"""

from fraiseql.auth.errors import AuthError
from fraiseql.auth.jwks_fetcher import JWKSFetcher
from fraiseql.auth.providers import Auth0Provider, JWTProvider
from fraiseql.auth.requirements import (
    Requirement,
    check_requirement,
    requirement_of,
    requires_auth,
    requires_permission,
    requires_role,
)
from fraiseql.auth.user_context import UserContext

__all__ = [
    "Auth0Provider",
    "AuthError",
    "JWKSFetcher",
    "JWTProvider",
    "Requirement",
    "UserContext",
    "check_requirement",
    "requirement_of",
    "requires_auth",
    "requires_permission",
    "requires_role",
]
