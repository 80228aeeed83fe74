"""A bounded LRU of per-request planning work, keyed by what that work depends on.

Coercing variables and planning the fast path (root fields collected, selection plans
compiled, SQL built) depend only on the document text, the operation name and the
client's variables: for the same three, the result is the same. Profiling the blog
example under load showed this planning at a third of the executor's CPU time per
request, so repeated requests (the same list query, the same variables) reuse it.
Different variables are different entries. Which access requirements the selection
meets is planning too (kept here); judging them runs on every request, because it
depends on the user.

Example::

    plans = PlanCache(max_entries=1000)
    key = plan_key(request.query, request.operation_name, request.variables)
    entry = plans.get(key)
    if entry is None:
        entry = plans.put(key, PlannedOperation(variables, fast_fields))
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock
from typing import Any

PlanKey = tuple[str, str | None, str | None]


@dataclass(frozen=True, slots=True)
class PlannedOperation:
    """Coerced variables (read-only by convention), the fast-path plan (or None), and the
    access requirements the selection meets (judged per request, against its user)."""

    variables: dict[str, Any]
    fast: Any
    requirements: tuple[Any, ...] = ()


def plan_key(query: str, operation_name: str | None, variables: dict[str, Any] | None) -> PlanKey | None:
    """The cache key, or None when the variables cannot be written as JSON (not cached)."""
    if not variables:
        return (query, operation_name, None)
    try:
        return (query, operation_name, json.dumps(variables, sort_keys=True, separators=(",", ":")))
    except (TypeError, ValueError):
        return None


class PlanCache:
    """Thread-safe LRU of ``PlannedOperation`` (``max_entries`` 0 disables it)."""

    def __init__(self, max_entries: int) -> None:
        self._max_entries = max_entries
        self._entries: OrderedDict[PlanKey, PlannedOperation] = OrderedDict()
        self._lock = Lock()

    def get(self, key: PlanKey | None) -> PlannedOperation | None:
        if key is None:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: PlanKey | None, entry: PlannedOperation) -> PlannedOperation:
        if key is None or self._max_entries == 0:
            return entry
        with self._lock:
            self._entries[key] = entry
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return entry

    def __len__(self) -> int:
        return len(self._entries)
