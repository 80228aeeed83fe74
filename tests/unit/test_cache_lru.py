"""LocalLRU: bounded in entries and bytes, per-entry expiry, invalidation by table tag."""

from __future__ import annotations

import pytest

from fraiseql.cache.lru import LocalLRU


class FakeClock:
    """A monotonic clock the test moves by hand (no sleeps, no wall-clock asserts)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make(clock: FakeClock, max_entries: int = 10, max_bytes: int = 10_000) -> LocalLRU:
    return LocalLRU(max_entries=max_entries, max_bytes=max_bytes, clock=clock)


def test_roundtrip(clock: FakeClock) -> None:
    lru = make(clock)
    assert lru.set("k", b"v", ["tb_post"], ttl_s=30)
    assert lru.get("k") == b"v"
    assert lru.get("other") is None


def test_entry_bound_evicts_the_least_recently_used(clock: FakeClock) -> None:
    lru = make(clock, max_entries=2)
    lru.set("a", b"1", [], 30)
    lru.set("b", b"2", [], 30)
    lru.get("a")  # "b" is now the least recently used
    lru.set("c", b"3", [], 30)
    assert len(lru) == 2
    assert lru.get("b") is None
    assert lru.get("a") == b"1" and lru.get("c") == b"3"


def test_byte_bound_counts_keys_and_values(clock: FakeClock) -> None:
    lru = make(clock, max_bytes=30)
    lru.set("a", b"x" * 9, [], 30)  # 10 bytes
    lru.set("b", b"x" * 9, [], 30)  # 20
    lru.set("c", b"x" * 9, [], 30)  # 30: still fits
    assert lru.total_bytes == 30 and len(lru) == 3
    lru.set("d", b"x" * 9, [], 30)  # 40: "a" must go
    assert lru.total_bytes == 30
    assert "a" not in lru and "d" in lru


def test_a_value_larger_than_the_cache_is_not_stored_and_evicts_nothing(clock: FakeClock) -> None:
    lru = make(clock, max_bytes=20)
    lru.set("a", b"1", [], 30)
    assert not lru.set("big", b"x" * 50, [], 30)
    assert "big" not in lru and lru.get("a") == b"1"


def test_replacing_a_key_keeps_the_byte_count_exact(clock: FakeClock) -> None:
    lru = make(clock)
    lru.set("a", b"x" * 100, ["t1"], 30)
    lru.set("a", b"y" * 10, ["t2"], 30)
    assert lru.total_bytes == 11
    assert lru.invalidate(["t1"]) == 0
    assert lru.get("a") == b"y" * 10


def test_entries_expire_after_their_own_ttl(clock: FakeClock) -> None:
    lru = make(clock)
    lru.set("short", b"1", [], ttl_s=5)
    lru.set("long", b"2", [], ttl_s=60)
    clock.now += 5
    assert lru.get("short") is None
    assert lru.get("long") == b"2"
    assert len(lru) == 1


def test_purge_expired_frees_bytes_without_reads(clock: FakeClock) -> None:
    lru = make(clock)
    lru.set("a", b"1", [], ttl_s=1)
    lru.set("b", b"2", [], ttl_s=100)
    clock.now += 2
    assert lru.purge_expired() == 1
    assert lru.total_bytes == 2 and len(lru) == 1


def test_non_positive_ttl_is_not_stored(clock: FakeClock) -> None:
    lru = make(clock)
    assert not lru.set("a", b"1", [], ttl_s=0)
    assert "a" not in lru


def test_invalidate_drops_every_entry_tagged_with_a_table(clock: FakeClock) -> None:
    lru = make(clock)
    lru.set("posts", b"1", ["tb_post"], 30)
    lru.set("posts+users", b"2", ["tb_post", "tb_user"], 30)
    lru.set("users", b"3", ["tb_user"], 30)
    lru.set("untagged", b"4", [], 30)
    assert lru.invalidate(["tb_post"]) == 2
    assert lru.get("posts") is None and lru.get("posts+users") is None
    assert lru.get("users") == b"3" and lru.get("untagged") == b"4"
    assert lru.invalidate(["tb_user", "tb_comment"]) == 1
    assert lru.total_bytes == len(b"4") + len("untagged")


def test_evicted_entries_leave_no_tag_behind(clock: FakeClock) -> None:
    lru = make(clock, max_entries=1)
    lru.set("a", b"1", ["tb_post"], 30)
    lru.set("b", b"2", ["tb_user"], 30)
    assert lru.invalidate(["tb_post"]) == 0
    assert lru._keys_by_table == {"tb_user": {"b"}}


def test_clear(clock: FakeClock) -> None:
    lru = make(clock)
    lru.set("a", b"1", ["t"], 30)
    lru.clear()
    assert len(lru) == 0 and lru.total_bytes == 0 and lru.invalidate(["t"]) == 0


@pytest.mark.parametrize(("entries", "size"), [(-1, 10), (10, 0)])
def test_bounds_must_be_sensible(entries: int, size: int) -> None:
    with pytest.raises(ValueError):
        LocalLRU(max_entries=entries, max_bytes=size)


def test_zero_entries_holds_nothing() -> None:
    """cache_local_max_entries=0: the shared store is the only tier."""
    lru = LocalLRU(max_entries=0, max_bytes=10_000)
    assert not lru.set("a", b"x", ["t"], 30)
    assert lru.get("a") is None and len(lru) == 0


# -- the stale window -------------------------------------------------------------------


def test_an_expired_entry_is_kept_for_stale_reads_within_the_window(clock: FakeClock) -> None:
    lru = LocalLRU(max_entries=10, max_bytes=10_000, stale_s=60, clock=clock)
    lru.set("k", b"v", ["tb_post"], ttl_s=30)
    clock.now += 45
    assert lru.get("k") is None  # not fresh
    assert lru.get_stale("k") == (b"v", 45.0)
    clock.now += 45  # 90 s: past the TTL plus the window
    assert lru.get_stale("k") is None and len(lru) == 0


def test_without_a_window_an_expired_entry_is_gone(clock: FakeClock) -> None:
    lru = make(clock)
    lru.set("k", b"v", [], ttl_s=30)
    clock.now += 31
    assert lru.get_stale("k") is None


def test_stale_entries_stay_within_the_bounds_and_are_invalidated(clock: FakeClock) -> None:
    lru = LocalLRU(max_entries=2, max_bytes=10_000, stale_s=600, clock=clock)
    for key in ("a", "b", "c"):
        lru.set(key, b"v", ["tb_post"], ttl_s=1)
    clock.now += 10
    assert len(lru) == 2 and lru.get_stale("a") is None
    assert lru.invalidate(["tb_post"]) == 2 and lru.get_stale("c") is None


def test_purge_keeps_entries_within_the_stale_window(clock: FakeClock) -> None:
    lru = LocalLRU(max_entries=10, max_bytes=10_000, stale_s=60, clock=clock)
    lru.set("young", b"v", [], ttl_s=30)
    lru.set("old", b"v", [], ttl_s=1)
    clock.now += 62
    assert lru.purge_expired() == 1 and lru.get_stale("young") is not None


def test_an_entry_filled_from_the_store_keeps_its_age(clock: FakeClock) -> None:
    lru = LocalLRU(max_entries=10, max_bytes=10_000, stale_s=60, clock=clock)
    lru.set("k", b"v", [], ttl_s=20, age_s=10)
    assert lru.get_stale("k") == (b"v", 10.0)
