"""Static limits on a parsed document: depth, complexity (selected fields) and aliases.

They run before validation and execution so an abusive query costs one AST walk.
Fragment spreads are followed (each fragment at most once per path, so a fragment
cycle, which validation rejects anyway, cannot loop here).

Example::

    measure(document)  # QueryMeasure(depth=3, complexity=7, aliases=0)
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from fraiseql.config import FraiseQLConfig
from fraiseql.errors import GraphQLRequestError


@dataclass(frozen=True, slots=True)
class QueryMeasure:
    depth: int
    complexity: int
    aliases: int


def measure(document: DocumentNode) -> QueryMeasure:
    """Depth, field count and alias count of the document's operations."""
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    depth = complexity = aliases = 0
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            d, c, a = _walk(definition.selection_set, fragments, frozenset(), 0)
            depth, complexity, aliases = max(depth, d), complexity + c, aliases + a
    return QueryMeasure(depth, complexity, aliases)


def _walk(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    visiting: frozenset[str],
    level: int,
) -> tuple[int, int, int]:
    if selection_set is None:
        return level, 0, 0
    depth, complexity, aliases = level, 0, 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            d, c, a = _walk(selection.selection_set, fragments, visiting, level + 1)
            depth = max(depth, d)
            complexity += 1 + c
            aliases += a + (1 if selection.alias is not None else 0)
        elif isinstance(selection, InlineFragmentNode):
            d, c, a = _walk(selection.selection_set, fragments, visiting, level)
            depth, complexity, aliases = max(depth, d), complexity + c, aliases + a
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None or name in visiting:
                continue
            d, c, a = _walk(fragment.selection_set, fragments, visiting | {name}, level)
            depth, complexity, aliases = max(depth, d), complexity + c, aliases + a
    return depth, complexity, aliases


def enforce(document: DocumentNode, config: FraiseQLConfig) -> QueryMeasure:
    """Raise GraphQLRequestError when the document is deeper, larger or more aliased than allowed."""
    found = measure(document)
    if found.depth > config.max_query_depth:
        raise GraphQLRequestError(
            f"Query depth {found.depth} exceeds the maximum of {config.max_query_depth}",
            "QUERY_TOO_DEEP",
        )
    if found.complexity > config.max_query_complexity:
        raise GraphQLRequestError(
            f"Query selects {found.complexity} fields; the maximum is {config.max_query_complexity}",
            "QUERY_TOO_COMPLEX",
        )
    if found.aliases > config.max_aliases:
        raise GraphQLRequestError(
            f"Query uses {found.aliases} aliases; the maximum is {config.max_aliases}",
            "TOO_MANY_ALIASES",
        )
    return found
