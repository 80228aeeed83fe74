"""Introspection answered from the caller's view of the schema (``fraiseql.rbac.visibility``).

With ``create_app(hide_unauthorized_in_introspection=True)`` a query whose root selects
``__schema`` or ``__type`` is split: those root fields run on the caller's view, the
other root fields run on the full schema as usual (through graphql-core: such mixed
queries are rare and never cached), and the two results are merged in selection order.

Example::

    if mentions_introspection(text):
        intro, rest = split_root_fields(groups)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from graphql import ExecutionResult, FieldNode

INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})

# A cheap test on the document text before collecting root fields: `__type` not followed
# by `name` (every `__type` field takes `(name: ...)`, `__typename` is no introspection).
_MENTIONS = re.compile(r"__schema|__type(?!name)")


def mentions_introspection(text: str) -> bool:
    """False when the document cannot select ``__schema`` or ``__type`` anywhere."""
    return _MENTIONS.search(text) is not None


def split_root_fields(
    groups: Mapping[str, list[FieldNode]],
) -> tuple[tuple[FieldNode, ...], tuple[FieldNode, ...]]:
    """The root field nodes that introspect, and all the others (``__typename`` included)."""
    intro: list[FieldNode] = []
    rest: list[FieldNode] = []
    for nodes in groups.values():
        (intro if nodes[0].name.value in INTROSPECTION_ROOTS else rest).extend(nodes)
    return tuple(intro), tuple(rest)


def merge_results(order: Sequence[str], results: Sequence[ExecutionResult]) -> ExecutionResult:
    """One result with each response key from the part that computed it, in ``order``;
    ``data`` is null when any part's is (a non-null root field failed)."""
    errors = [error for result in results for error in result.errors or ()]
    if any(result.data is None for result in results):
        return ExecutionResult(None, errors or None)
    values: dict[str, Any] = {}
    for result in results:
        values.update(result.data or {})
    return ExecutionResult({key: values.get(key) for key in order}, errors or None)
