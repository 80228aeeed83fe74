"""Access checks for a whole operation, before any SQL runs.

Requirements come from ``@requires_auth`` / ``@requires_role`` / ``@requires_permission``
on custom queries, mutations, ``@type`` classes and computed fields; the schema builder
copies them into the fields' metadata; ``fraiseql.rbac.check_access`` judges them
(wildcard permissions, inherited roles, 503 when the permission source is down). Walking
the selection once, up front, means a request is refused as a whole (401 or 403) instead
of half-executed, and the fast path needs no checks of its own.

Which requirements a selection meets does not depend on the user, so the walk can be
done once per document and variables (``requirements``, kept in the plan cache) and
only the judging (``check_access``) runs per request.

Example::

    rules = AccessRules(schema)
    rules.check(schema.query_type, operation.selection_set, fragments, variables, user)
    needed = rules.requirements(schema.query_type, operation.selection_set, fragments, variables)
    check_requirements(needed, user)  # the same verdict as rules.check
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FragmentDefinitionNode,
    GraphQLObjectType,
    GraphQLSchema,
    SelectionSetNode,
    get_named_type,
)
from graphql.execution.collect_fields import collect_fields

from fraiseql.auth.requirements import Requirement
from fraiseql.rbac.enforcement import check_access, field_denial_of
from fraiseql.schema.metadata import EXTENSION_KEY, FieldMeta


def _meta(holder: Any) -> Any:
    return (getattr(holder, "extensions", None) or {}).get(EXTENSION_KEY)


class AccessRules:
    """Knows whether a schema has any requirement at all, and enforces them."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema
        self.enabled = any(self._type_has_rules(t) for t in schema.type_map.values())
        # In "null" mode an object field's requirement is checked by its resolver instead.
        self.fields_fail_request = field_denial_of(schema) == "error"

    @staticmethod
    def _type_has_rules(named: Any) -> bool:
        meta = _meta(named)
        if meta is not None and getattr(meta, "requirement", None) is not None:
            return True
        for field_def in (getattr(named, "fields", None) or {}).values() if isinstance(named, GraphQLObjectType) else ():
            if getattr(_meta(field_def), "requirement", None) is not None:
                return True
        return False

    def check(
        self,
        parent: GraphQLObjectType,
        selection_set: SelectionSetNode,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        user: Any,
    ) -> None:
        """Raise AuthError (401/403) at the first field the user may not select."""
        if not self.enabled:
            return
        check_requirements(self.requirements(parent, selection_set, fragments, variables), user)

    def requirements(
        self,
        parent: GraphQLObjectType,
        selection_set: SelectionSetNode,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
    ) -> tuple[Requirement, ...]:
        """The requirements the selection meets, in the order ``check`` judges them."""
        if not self.enabled:
            return ()
        found: list[Requirement] = []
        self._walk(parent, selection_set, fragments, variables, found, set())
        return tuple(found)

    def _walk(
        self,
        parent: GraphQLObjectType,
        selection_set: SelectionSetNode,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        found: list[Requirement],
        checked: set[int],
    ) -> None:
        grouped = collect_fields(self.schema, fragments, variables, parent, selection_set)
        for nodes in grouped.values():
            field_def = parent.fields.get(nodes[0].name.value)
            if field_def is None:  # __typename and introspection fields
                continue
            field_meta = _meta(field_def)
            if self.fields_fail_request or not isinstance(field_meta, FieldMeta):
                field_requirement = getattr(field_meta, "requirement", None)
                if field_requirement is not None:
                    found.append(field_requirement)
            named = get_named_type(field_def.type)
            members = (
                list(self.schema.get_possible_types(named))
                if not isinstance(named, GraphQLObjectType) and hasattr(named, "types")
                else [named]
            )
            for member in members:
                if not isinstance(member, GraphQLObjectType):
                    continue
                requirement: Requirement | None = getattr(_meta(member), "requirement", None)
                if requirement is not None and id(member) not in checked:
                    found.append(requirement)
                    checked.add(id(member))
                for node in nodes:
                    if node.selection_set is not None:
                        self._walk(member, node.selection_set, fragments, variables, found, checked)


def check_requirements(requirements: tuple[Requirement, ...], user: Any) -> None:
    """Judge ``requirements`` in order for ``user``: the first one refused raises."""
    for requirement in requirements:
        check_access(requirement, user)
