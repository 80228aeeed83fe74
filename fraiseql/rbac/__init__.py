"""Role-based access control: roles, hierarchy and wildcard permissions in PostgreSQL,
resolved per user and tenant by one SQL statement, cached with a bounded staleness, and
enforced before SQL through the schema's ``@requires*`` directives.

Example::

    app = fraiseql.create_app(schema=schema, auth=provider, rbac=RbacConfig())
    # a token's user now carries inherited roles and "post:*"-style grants
"""

from fraiseql.rbac.config import RbacConfig
from fraiseql.rbac.directives import RBAC_DIRECTIVES, attach_directives, print_sdl
from fraiseql.rbac.effective_user import EffectiveUser
from fraiseql.rbac.enforcement import check_access, field_denial_of
from fraiseql.rbac.errors import PermissionSourceUnavailable
from fraiseql.rbac.model import (
    add_role,
    assign_role,
    ensure_rbac_schema,
    grant_permission,
    inherit,
    revoke_permission,
    revoke_role,
)
from fraiseql.rbac.permissions import PermissionSet
from fraiseql.rbac.provider import RbacProvider
from fraiseql.rbac.resolution import Resolution
from fraiseql.rbac.resolver import PermissionResolver
from fraiseql.rbac.visibility import VisibleSchemas

__all__ = [
    "RBAC_DIRECTIVES",
    "EffectiveUser",
    "PermissionResolver",
    "PermissionSet",
    "PermissionSourceUnavailable",
    "RbacConfig",
    "RbacProvider",
    "Resolution",
    "VisibleSchemas",
    "add_role",
    "assign_role",
    "attach_directives",
    "check_access",
    "ensure_rbac_schema",
    "field_denial_of",
    "grant_permission",
    "inherit",
    "print_sdl",
    "revoke_permission",
    "revoke_role",
]
