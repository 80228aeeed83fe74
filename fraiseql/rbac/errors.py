"""RBAC's one error: the permission source could not answer, so nothing is granted.

``PermissionSourceUnavailable`` is an ``AuthError`` with status 503 and code
``PERMISSION_SOURCE_UNAVAILABLE``: the client may retry, and a protected field is never
served while the grants behind it are unknown (deny by default, never allow by default).

Example::

    try:
        resolution = await resolver.resolve(user)
    except PermissionSourceUnavailable:
        ...  # only what the token's own claims grant is allowed
"""

from __future__ import annotations

from fraiseql.auth.errors import AuthError

CODE = "PERMISSION_SOURCE_UNAVAILABLE"


class PermissionSourceUnavailable(AuthError):
    """The database of roles and permissions failed, timed out or was too stale."""

    def __init__(self, message: str = "permissions are temporarily unavailable") -> None:
        super().__init__(message, CODE, 503)
