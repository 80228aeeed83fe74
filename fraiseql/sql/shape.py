"""What the SQL builders know about a document: its keys and their kinds.

A ``DocumentShape`` maps document keys (snake_case) to a ``FieldShape``: the scalar kind
(which decides the cast and the operators), whether it is a list, and the nested shape
of an object. GraphQL names are accepted as aliases, so a where-input coerced with or
without ``out_name`` resolves the same way. ``UNTYPED`` is used for a bare view name:
kinds are then inferred from the filter values.

Example::

    user = DocumentShape({"id": FieldShape("id"), "name": FieldShape("string")})
    post = DocumentShape({"title": FieldShape("string"),
                          "author": FieldShape("object", nested=user)})
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from fraiseql.errors import GraphQLRequestError

# Kinds: "id", "string", "int", "float", "decimal", "boolean", "datetime", "date",
# "enum", "json", "object"; "infer" only inside UNTYPED.
SCALAR_CASTS: dict[str, str | None] = {
    "id": None,
    "string": None,
    "enum": None,
    "int": "numeric",
    "float": "numeric",
    "decimal": "numeric",
    "boolean": "boolean",
    "datetime": "timestamptz",
    "date": "date",
}


def invalid_input(message: str) -> GraphQLRequestError:
    """The error every SQL builder raises for a bad filter, order, limit or cursor."""
    return GraphQLRequestError(message, "INVALID_INPUT")


@dataclass(frozen=True)
class FieldShape:
    kind: str
    is_list: bool = False
    nested: DocumentShape | None = None


@dataclass(eq=False)  # shapes can be cyclic (User.posts -> Post.author -> User)
class DocumentShape:
    """Document keys -> shapes. ``fields`` may be filled after creation (cyclic types)."""

    fields: dict[str, FieldShape] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)  # GraphQL name -> document key
    name: str = "document"

    @property
    def is_untyped(self) -> bool:
        return self is UNTYPED

    def lookup(self, key: str) -> tuple[str, FieldShape]:
        """(document key, shape) for a Python or GraphQL field name; unknown is an error."""
        if self.is_untyped:
            return key, FieldShape("infer")
        source_key = key if key in self.fields else self.aliases.get(key)
        if source_key is None:
            known = ", ".join(sorted(self.fields)) or "(none)"
            raise invalid_input(f"unknown field {key!r} on {self.name}; known fields: {known}")
        return source_key, self.fields[source_key]


UNTYPED = DocumentShape(name="untyped document")


def shape_from_mapping(fields: Mapping[str, FieldShape], name: str = "document") -> DocumentShape:
    return DocumentShape(dict(fields), name=name)
