"""``PermissionSet``: granted permissions with wildcards, answering ``allows`` in O(1).

A permission is ``resource:action``. A grant may put ``*`` on either side (``post:*``
allows every action on posts, ``*:read`` reading everything) or be ``*`` alone (all).
The grants are split once, when the set is built, so a check is at most three set
lookups: the hot path of every protected field.

Example::

    grants = PermissionSet.of(["post:*", "comment:read"])
    grants.allows("post:delete")    # True
    grants.allows("comment:write")  # False
"""

from __future__ import annotations

from collections.abc import Iterable

WILDCARD = "*"


def is_valid_permission(text: str) -> bool:
    """``*`` or ``resource:action`` with non-empty parts and no whitespace."""
    if text == WILDCARD:
        return True
    resource, colon, action = text.partition(":")
    return bool(colon and resource and action and ":" not in action and not any(c.isspace() for c in text))


class PermissionSet:
    """Immutable grants; ``allows(permission)`` honours the wildcards."""

    __slots__ = ("grants", "_exact", "_any_action", "_any_resource", "_everything")

    def __init__(self, grants: frozenset[str]) -> None:
        self.grants = grants
        self._everything = WILDCARD in grants or "*:*" in grants
        self._exact = grants
        self._any_action = frozenset(g[:-2] for g in grants if g.endswith(":*"))
        self._any_resource = frozenset(g[2:] for g in grants if g.startswith("*:"))

    @classmethod
    def of(cls, grants: Iterable[str]) -> PermissionSet:
        return cls(frozenset(grants))

    def allows(self, permission: str) -> bool:
        """Whether a grant covers ``permission`` (exactly or through a wildcard)."""
        if permission in self._exact or self._everything:
            return True
        resource, _, action = permission.partition(":")
        return resource in self._any_action or action in self._any_resource

    def allows_all(self, permissions: Iterable[str]) -> bool:
        return all(self.allows(p) for p in permissions)

    def __contains__(self, permission: object) -> bool:
        return isinstance(permission, str) and self.allows(permission)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(sorted(self.grants))

    def __len__(self) -> int:
        return len(self.grants)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PermissionSet) and other.grants == self.grants

    def __hash__(self) -> int:
        return hash(self.grants)

    def __repr__(self) -> str:
        return f"PermissionSet({sorted(self.grants)!r})"


EMPTY = PermissionSet(frozenset())
