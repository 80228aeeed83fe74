"""PermissionSet wildcards, permission syntax, and the permission cache's LRU and TTL."""

from __future__ import annotations

import pytest

from fraiseql.rbac.cache import PermissionCache
from fraiseql.rbac.permissions import PermissionSet, is_valid_permission
from fraiseql.rbac.resolution import Resolution

CASES = [
    # grants, asked, allowed
    (["post:read"], "post:read", True),
    (["post:read"], "post:write", False),
    (["post:*"], "post:delete", True),
    (["post:*"], "comment:delete", False),
    (["*:read"], "comment:read", True),
    (["*:read"], "comment:write", False),
    (["*"], "anything:at_all", True),
    (["*:*"], "post:read", True),
    ([], "post:read", False),
    (["post"], "post:read", False),  # not a wildcard, not even valid
    (["post:re*"], "post:read", False),  # only whole sides are wildcards
]


@pytest.mark.parametrize(("grants", "asked", "allowed"), CASES)
def test_wildcards(grants: list[str], asked: str, allowed: bool) -> None:
    assert PermissionSet.of(grants).allows(asked) is allowed
    assert (asked in PermissionSet.of(grants)) is allowed


def test_allows_all_needs_every_permission() -> None:
    grants = PermissionSet.of(["post:*", "comment:read"])
    assert grants.allows_all(["post:write", "comment:read"])
    assert not grants.allows_all(["post:write", "comment:write"])


@pytest.mark.parametrize("text", ["*", "post:read", "post:*", "*:read", "*:*", "blog.post:read-all"])
def test_valid_permissions(text: str) -> None:
    assert is_valid_permission(text)


@pytest.mark.parametrize("text", ["", "post", ":read", "post:", "post:read:x", "post: read"])
def test_invalid_permissions(text: str) -> None:
    assert not is_valid_permission(text)


def _resolution(version: int = 1) -> Resolution:
    return Resolution(version, frozenset({"viewer"}), PermissionSet.of(["post:read"]))


def test_cache_evicts_the_least_recently_used() -> None:
    cache = PermissionCache(max_entries=2, ttl_s=60)
    cache.put("a", _resolution(), now=0)
    cache.put("b", _resolution(), now=0)
    assert cache.get("a", now=1) is not None  # a is now the most recent
    cache.put("c", _resolution(), now=1)
    assert cache.get("b", now=1) is None
    assert cache.get("a", now=1) is not None and cache.get("c", now=1) is not None
    assert cache.evictions == 1 and len(cache) == 2


def test_cache_entries_expire_after_the_ttl() -> None:
    cache = PermissionCache(max_entries=10, ttl_s=5)
    cache.put("a", _resolution(), now=100)
    assert cache.get("a", now=105) is not None
    assert cache.get("a", now=105.01) is None
    assert len(cache) == 0


def test_cache_needs_room_for_one_entry() -> None:
    with pytest.raises(ValueError):
        PermissionCache(max_entries=0)
