"""Python annotations turned into a small, checked description of a GraphQL type.

``parse_annotation(list[str] | None)`` -> ``TypeRef(base=list, nullable=True,
item=TypeRef(base=str, nullable=False))``. The base is a scalar class, an ``@enum``
class, an ``@type`` / ``@input`` class, or ``list``. Anything else is rejected with the
annotation named, so a typo fails at schema build time rather than at query time.

Example::

    ref = parse_annotation(datetime.datetime | None)
    ref.nullable  # True
"""

from __future__ import annotations

import datetime
import decimal
import types
import typing
import uuid
from dataclasses import dataclass
from typing import Any

from fraiseql.types.scalars import ID, JSON

# Scalar base classes and the kind name the SQL layer uses for casts and operators.
SCALAR_KINDS: dict[Any, str] = {
    str: "string",
    int: "int",
    float: "float",
    bool: "boolean",
    ID: "id",
    uuid.UUID: "id",
    datetime.datetime: "datetime",
    datetime.date: "date",
    decimal.Decimal: "decimal",
    JSON: "json",
    dict: "json",
    typing.Any: "json",
}


class AnnotationError(TypeError):
    """An annotation FraiseQL cannot map to a GraphQL type."""


@dataclass(frozen=True)
class TypeRef:
    """A parsed annotation: the base class, whether it is nullable, the list item."""

    base: Any
    nullable: bool = False
    item: TypeRef | None = None

    @property
    def is_list(self) -> bool:
        return self.base is list

    @property
    def innermost(self) -> TypeRef:
        """The element type under any number of list levels."""
        ref = self
        while ref.item is not None:
            ref = ref.item
        return ref


def parse_annotation(annotation: Any, where: str = "annotation") -> TypeRef:
    """Turn ``X``, ``X | None``, ``Optional[X]``, ``list[X]`` into a ``TypeRef``."""
    nullable = False
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(members) != 1:
            raise AnnotationError(
                f"{where}: unions other than `X | None` are not supported: {annotation!r}"
            )
        nullable = True
        annotation = members[0]
        origin = typing.get_origin(annotation)
    if annotation is list or origin in (list, typing.List):  # noqa: UP006 - matching both
        args = typing.get_args(annotation)
        if len(args) != 1:
            raise AnnotationError(f"{where}: a list needs its item type, e.g. list[str]")
        return TypeRef(list, nullable, parse_annotation(args[0], where))
    if origin is not None:
        raise AnnotationError(f"{where}: unsupported annotation {annotation!r}")
    if annotation is None or annotation is type(None):
        raise AnnotationError(f"{where}: a field cannot be only None")
    return TypeRef(annotation, nullable)


def scalar_kind(base: Any) -> str | None:
    """The SQL kind of a scalar base class, or None when ``base`` is not a scalar."""
    try:
        return SCALAR_KINDS.get(base)
    except TypeError:  # unhashable annotation objects
        return None
