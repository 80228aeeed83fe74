"""Class decorators: ``@type``, ``@input``, ``@enum`` and the method decorator ``@field``.

A decorated class stays a plain Python class (made a keyword-only dataclass when it is
not one already) with its definition attached; nothing about it is GraphQL-specific
until ``build_schema`` reads the registry.

Example::

    @type(sql_source="v_post")
    class Post:
        id: ID
        title: str

        @field
        def shout(self, info) -> str:
            return self.title.upper()

    Post(id="1", title="hi").title  # "hi"
"""

from __future__ import annotations

import builtins
import dataclasses
import enum as enum_module
from collections.abc import Callable
from typing import Any, TypeVar, overload

from fraiseql.types.definitions import (
    COMPUTED_ATTR,
    DEFINITION_ATTR,
    ComputedFieldOptions,
    EnumDefinition,
    TypeDefinition,
    docstring_of,
    remember_declared,
)
from fraiseql.types.registry import Registry, default_registry

C = TypeVar("C", bound=type)
F = TypeVar("F", bound=Callable[..., Any])


def _as_dataclass(cls: C) -> C:
    if dataclasses.is_dataclass(cls):
        return cls
    return dataclasses.dataclass(kw_only=True)(cls)


def _declare_class(
    cls: C,
    *,
    kind: str,
    name: str | None,
    sql_source: str | None,
    description: str | None,
    registry: Registry | None,
    projection_of: str | None = None,
    text_column: str | None = None,
) -> C:
    description = description or docstring_of(cls)  # before dataclass() writes its own
    cls = _as_dataclass(cls)
    definition = TypeDefinition(
        cls,
        graphql_name=name or cls.__name__,
        kind=kind,
        sql_source=sql_source,
        description=description,
        projection_of=projection_of,
        text_column=text_column,
    )
    setattr(cls, DEFINITION_ATTR, definition)
    remember_declared(cls)
    (registry or default_registry()).add_type(definition)
    return cls


@overload
def type(cls: C, /) -> C: ...
@overload
def type(
    *,
    sql_source: str | None = None,
    projection_of: str | None = None,
    text_column: str | None = None,
    name: str | None = None,
    description: str | None = None,
    registry: Registry | None = None,
) -> Callable[[C], C]: ...


def type(  # noqa: A001 - exported as fraiseql.type on purpose
    cls: Any = None,
    /,
    *,
    sql_source: str | None = None,
    projection_of: str | None = None,
    text_column: str | None = None,
    name: str | None = None,
    description: str | None = None,
    registry: Registry | None = None,
) -> Any:
    """Declare an output object type; ``sql_source`` names the view or table (``id``, ``data``).

    A table that stores a view's documents (a projection kept in sync by the database,
    such as ``tv_post`` for ``v_post``) is read like a view; ``projection_of`` names that
    view, so that cached results are tagged with the tables the view reads as well as
    the table itself, and a mutation that ``invalidates=("tb_post",)`` clears them::

        @type(sql_source="tv_post", projection_of="v_post")
        class Post: ...

    ``text_column`` names a column of ``sql_source`` that stores ``data::text`` (for
    example ``data_text text GENERATED ALWAYS AS (data::text) STORED``); reads select it
    instead of converting each document to text again (filters still use ``data``).
    """
    if (projection_of is not None or text_column is not None) and sql_source is None:
        raise TypeError("projection_of and text_column need sql_source (where the documents are)")

    def decorate(target: C) -> C:
        return _declare_class(
            target, kind="type", name=name, sql_source=sql_source,
            description=description, registry=registry, projection_of=projection_of,
            text_column=text_column,
        )

    return decorate(cls) if cls is not None else decorate


@overload
def input(cls: C, /) -> C: ...
@overload
def input(
    *, name: str | None = None, description: str | None = None, registry: Registry | None = None
) -> Callable[[C], C]: ...


def input(  # noqa: A001 - exported as fraiseql.input on purpose
    cls: Any = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    registry: Registry | None = None,
) -> Any:
    """Declare an input object type (mutation inputs, query arguments)."""

    def decorate(target: C) -> C:
        return _declare_class(
            target, kind="input", name=name, sql_source=None,
            description=description, registry=registry,
        )

    return decorate(cls) if cls is not None else decorate


def enum(
    cls: Any = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    registry: Registry | None = None,
) -> Any:
    """Declare a GraphQL enum from an ``enum.Enum``; values are the member names.

    Example::

        @enum
        class PostStatus(enum.Enum):
            DRAFT = "draft"
    """

    def decorate(target: C) -> C:
        if not (isinstance(target, builtins.type) and issubclass(target, enum_module.Enum)):
            raise TypeError(f"@enum needs an enum.Enum subclass, got {target!r}")
        definition = EnumDefinition(
            target, graphql_name=name or target.__name__,
            description=description or docstring_of(target),
        )
        setattr(target, DEFINITION_ATTR, definition)
        remember_declared(target)
        (registry or default_registry()).add_type(definition)
        return target

    return decorate(cls) if cls is not None else decorate


def field(
    func: Any = None, /, *, name: str | None = None, description: str | None = None
) -> Any:
    """Mark a method as a computed field: ``def f(self, info, arg: int = 1) -> str``.

    ``self`` is an instance of the class built from the row's document; the arguments
    after ``info`` become GraphQL arguments (camelCase). The method may be async.
    """

    def decorate(target: F) -> F:
        setattr(target, COMPUTED_ATTR, ComputedFieldOptions(name=name, description=description))
        return target

    return decorate(func) if func is not None else decorate

