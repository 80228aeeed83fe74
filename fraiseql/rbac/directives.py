"""The schema directives ``@requiresAuth``, ``@requiresRole(role:)`` and
``@requiresPermission(permission:)``, and the SDL that shows where they apply.

Requirements are declared in Python (``@requires_role("editor")`` on a ``@type``, an
``@field``, a ``@query`` or a ``@mutation``); ``build_schema`` declares these directives
and ``attach_directives`` records each requirement as applied directives on the type's or
field's ``ast_node`` (where graphql-core's ``get_directive_values`` finds them).
graphql-core's ``print_schema`` never prints applied directives, so ``print_sdl`` does.

Example::

    print(print_sdl(schema))
    # type Query {
    #   adminAnswer: Int! @requiresRole(role: "admin")
    # }
"""

from __future__ import annotations

from typing import Any

from graphql import (
    ConstArgumentNode,
    ConstDirectiveNode,
    DirectiveLocation,
    FieldDefinitionNode,
    GraphQLArgument,
    GraphQLDirective,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    NameNode,
    ObjectTypeDefinitionNode,
    StringValueNode,
    is_introspection_type,
    is_specified_directive,
    is_specified_scalar_type,
    print_ast,
)
from graphql.utilities.print_schema import (
    print_args,
    print_block,
    print_deprecated,
    print_description,
    print_directive,
    print_implemented_interfaces,
    print_schema_definition,
    print_type,
)

from fraiseql.auth.requirements import Requirement

# fraiseql.schema.metadata.EXTENSION_KEY; not imported, as fraiseql.schema imports this module.
_EXTENSION_KEY = "fraiseql"

_WHERE = (DirectiveLocation.OBJECT, DirectiveLocation.FIELD_DEFINITION)

REQUIRES_AUTH = GraphQLDirective(
    "requiresAuth", _WHERE, description="Only an authenticated user may select this."
)
REQUIRES_ROLE = GraphQLDirective(
    "requiresRole", _WHERE, {"role": GraphQLArgument(GraphQLNonNull(GraphQLString))},
    is_repeatable=True, description="Only a user with this role (or one inheriting it).",
)
REQUIRES_PERMISSION = GraphQLDirective(
    "requiresPermission", _WHERE, {"permission": GraphQLArgument(GraphQLNonNull(GraphQLString))},
    is_repeatable=True, description="Only a user granted this permission (wildcards count).",
)
RBAC_DIRECTIVES = (REQUIRES_AUTH, REQUIRES_ROLE, REQUIRES_PERMISSION)


def _directive(name: str, argument: str | None = None, value: str = "") -> ConstDirectiveNode:
    arguments = (
        (ConstArgumentNode(name=NameNode(value=argument), value=StringValueNode(value=value)),)
        if argument else ()
    )
    return ConstDirectiveNode(name=NameNode(value=name), arguments=arguments)


def directive_nodes(requirement: Requirement | None) -> tuple[ConstDirectiveNode, ...]:
    """The applied directives that say what ``requirement`` says."""
    if requirement is None:
        return ()
    nodes = [_directive("requiresRole", "role", r) for r in sorted(requirement.roles)]
    nodes += [_directive("requiresPermission", "permission", p) for p in sorted(requirement.permissions)]
    return tuple(nodes) or (_directive("requiresAuth"),)


def _requirement(holder: Any) -> Requirement | None:
    return getattr((getattr(holder, "extensions", None) or {}).get(_EXTENSION_KEY), "requirement", None)


def attach_directives(schema: GraphQLSchema) -> None:
    """Give every object type and field with a requirement an ``ast_node`` carrying it."""
    for named in schema.type_map.values():
        if not isinstance(named, GraphQLObjectType) or is_introspection_type(named):
            continue
        nodes = directive_nodes(_requirement(named))
        if nodes:
            named.ast_node = ObjectTypeDefinitionNode(name=NameNode(value=named.name), directives=nodes)
        for name, field in named.fields.items():
            nodes = directive_nodes(_requirement(field))
            if nodes:
                field.ast_node = FieldDefinitionNode(name=NameNode(value=name), directives=nodes)


def _applied(holder: Any) -> str:
    node = getattr(holder, "ast_node", None)
    directives = getattr(node, "directives", None) or ()
    return "".join(" " + print_ast(d) for d in directives)


def _print_object(type_: GraphQLObjectType) -> str:
    fields = [
        print_description(field, "  ", not i) + f"  {name}" + print_args(field.args, "  ")
        + f": {field.type}" + print_deprecated(field.deprecation_reason) + _applied(field)
        for i, (name, field) in enumerate(type_.fields.items())
    ]
    return (
        print_description(type_) + f"type {type_.name}" + print_implemented_interfaces(type_)
        + _applied(type_) + print_block(fields)
    )


def print_sdl(schema: GraphQLSchema) -> str:
    """The schema as SDL, like graphql-core's ``print_schema`` plus applied directives."""
    parts = [print_schema_definition(schema)] if print_schema_definition(schema) else []
    parts += [print_directive(d) for d in schema.directives if not is_specified_directive(d)]
    for named in schema.type_map.values():
        if is_introspection_type(named) or is_specified_scalar_type(named):
            continue
        parts.append(_print_object(named) if isinstance(named, GraphQLObjectType) else print_type(named))
    return "\n\n".join(parts) + "\n"
