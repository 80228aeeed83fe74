"""The plan cache: keys from document, operation and variables; bounded LRU."""

from __future__ import annotations

from fraiseql.execution.plans import PlanCache, PlannedOperation, plan_key


def test_keys_ignore_variable_order_and_tell_values_apart() -> None:
    query = "query Q($a: Int, $b: Int) { posts(limit: $a, offset: $b) { id } }"
    assert plan_key(query, "Q", {"a": 1, "b": 2}) == plan_key(query, "Q", {"b": 2, "a": 1})
    assert plan_key(query, "Q", {"a": 1, "b": 2}) != plan_key(query, "Q", {"a": 1, "b": 3})
    assert plan_key(query, "Q", None) == plan_key(query, "Q", {}) == (query, "Q", None)
    assert plan_key(query, None, None) != plan_key(query, "Q", None)


def test_variables_that_are_not_json_are_never_cached() -> None:
    cache = PlanCache(max_entries=10)
    key = plan_key("{ posts { id } }", None, {"x": object()})
    assert key is None
    entry = cache.put(key, PlannedOperation({}, None))
    assert cache.get(key) is None and len(cache) == 0 and entry.fast is None


def test_least_recently_used_entry_leaves_first() -> None:
    cache = PlanCache(max_entries=2)
    first, second, third = (plan_key(f"{{ q{i} }}", None, None) for i in range(3))
    for key in (first, second):
        cache.put(key, PlannedOperation({}, key))
    assert cache.get(first) is not None  # first is now the most recent
    cache.put(third, PlannedOperation({}, third))
    assert cache.get(second) is None
    assert cache.get(first).fast == first and cache.get(third).fast == third
    assert len(cache) == 2


def test_zero_entries_disables_the_cache() -> None:
    cache = PlanCache(max_entries=0)
    key = plan_key("{ posts { id } }", None, None)
    cache.put(key, PlannedOperation({}, None))
    assert cache.get(key) is None
