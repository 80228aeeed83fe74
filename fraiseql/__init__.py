"""FraiseQL: GraphQL over PostgreSQL with a Rust response pipeline.

Declare types over views, expose queries and mutations, serve over HTTP::

    import fraiseql

    @fraiseql.type(sql_source="v_user")
    class User:
        id: fraiseql.ID
        name: str

    users = fraiseql.list_query(User, name="users")
    app = fraiseql.create_app()   # DATABASE_URL is read at start-up

Everything not listed in ``__all__`` is private and may change.
"""

from fraiseql.auth import (
    Auth0Provider,
    AuthError,
    JWTProvider,
    UserContext,
    requires_auth,
    requires_permission,
    requires_role,
)
from fraiseql.config import FraiseQLConfig
from fraiseql.context import RequestContext
from fraiseql.db.pool import Database
from fraiseql.db.repository import Repository
from fraiseql.errors import FraiseQLError
from fraiseql.http import create_app
from fraiseql.rbac import RbacConfig
from fraiseql.types import (
    ID,
    JSON,
    Date,
    DateTime,
    Decimal,
    Registry,
    build_schema,
    connection_query,
    enum,
    field,
    get_query,
    input,
    list_query,
    mutation,
    query,
    type,
)

__version__ = "0.1.0"

__all__ = [
    "ID",
    "JSON",
    "Auth0Provider",
    "AuthError",
    "Database",
    "Date",
    "DateTime",
    "Decimal",
    "FraiseQLConfig",
    "FraiseQLError",
    "JWTProvider",
    "RbacConfig",
    "Registry",
    "Repository",
    "RequestContext",
    "UserContext",
    "build_schema",
    "connection_query",
    "create_app",
    "enum",
    "field",
    "get_query",
    "input",
    "list_query",
    "mutation",
    "query",
    "requires_auth",
    "requires_permission",
    "requires_role",
    "type",
]
