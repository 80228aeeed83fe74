"""What the decorators record: one definition object per declared class or function.

Definitions are read by the schema builder and the repository. Field lists are
computed on first use (``typing.get_type_hints``), so a class may refer to classes
declared after it.

Example::

    definition = definition_of(Post)
    definition.sql_source                  # "v_post"
    definition.fields["published_at"].graphql_name  # "publishedAt"
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from fraiseql.types.annotations import AnnotationError, TypeRef, parse_annotation
from fraiseql.types.naming import to_camel_case

MISSING: Any = dataclasses.MISSING
DEFINITION_ATTR = "__fraiseql_definition__"
COMPUTED_ATTR = "__fraiseql_field__"


@dataclass(frozen=True)
class FieldDefinition:
    """A stored field: ``source_key`` is its key in the JSONB document."""

    python_name: str
    graphql_name: str
    type_ref: TypeRef
    default: Any = MISSING
    description: str | None = None

    @property
    def source_key(self) -> str:
        return self.python_name


@dataclass(frozen=True)
class ArgumentDefinition:
    python_name: str
    graphql_name: str
    type_ref: TypeRef
    default: Any = MISSING


@dataclass(frozen=True)
class ComputedFieldOptions:
    """Set on a method by ``@field``; read when its class is decorated."""

    name: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class ComputedFieldDefinition:
    """A ``@field`` method: ``func(self, info, **arguments)``."""

    python_name: str
    graphql_name: str
    func: Callable[..., Any]
    type_ref: TypeRef
    arguments: tuple[ArgumentDefinition, ...]
    description: str | None = None


_DECLARED_BY_NAME: dict[str, Any] = {}


def remember_declared(cls: Any) -> None:
    """Note a declared class by name, to resolve string annotations that name it."""
    _DECLARED_BY_NAME[cls.__name__] = cls


def type_hints(obj: Any) -> dict[str, Any]:
    """``typing.get_type_hints``, falling back to declared class names for string
    annotations the defining module cannot resolve (classes declared inside functions
    under ``from __future__ import annotations``)."""
    try:
        return typing.get_type_hints(obj)
    except NameError:
        return typing.get_type_hints(obj, localns=dict(_DECLARED_BY_NAME))


def _docstring(obj: Any) -> str | None:
    doc = obj.__dict__.get("__doc__") if isinstance(obj, type) else getattr(obj, "__doc__", None)
    return inspect.cleandoc(doc) if doc else None


def parse_signature(
    func: Callable[..., Any], skip: int, where: str
) -> tuple[tuple[ArgumentDefinition, ...], TypeRef]:
    """Arguments after the first ``skip`` parameters, and the return type, of ``func``."""
    hints = type_hints(func)
    if "return" not in hints:
        raise AnnotationError(f"{where}: a return annotation is required")
    parameters = list(inspect.signature(func).parameters.values())[skip:]
    arguments = []
    for parameter in parameters:
        if parameter.name not in hints:
            raise AnnotationError(f"{where}: argument {parameter.name!r} needs an annotation")
        default = MISSING if parameter.default is inspect.Parameter.empty else parameter.default
        arguments.append(
            ArgumentDefinition(
                python_name=parameter.name,
                graphql_name=to_camel_case(parameter.name),
                type_ref=parse_annotation(hints[parameter.name], f"{where}({parameter.name})"),
                default=default,
            )
        )
    return tuple(arguments), parse_annotation(hints["return"], f"{where} return")


class TypeDefinition:
    """An ``@type`` (output object) or ``@input`` class."""

    def __init__(
        self,
        cls: type,
        *,
        graphql_name: str,
        kind: str,
        sql_source: str | None = None,
        description: str | None = None,
        projection_of: str | None = None,
        text_column: str | None = None,
    ) -> None:
        self.cls = cls
        self.graphql_name = graphql_name
        self.kind = kind  # "type" or "input"
        self.sql_source = sql_source
        self.projection_of = projection_of  # the view a projection table stores, or None
        self.text_column = text_column  # a column of sql_source holding data::text, or None
        self.description = description

    @cached_property
    def fields(self) -> dict[str, FieldDefinition]:
        """Stored fields by Python name, in declaration order."""
        hints = type_hints(self.cls)
        defaults = {f.name: f.default for f in dataclasses.fields(self.cls)}
        fields = {}
        for name, annotation in hints.items():
            if name.startswith("_") or typing.get_origin(annotation) is typing.ClassVar:
                continue
            fields[name] = FieldDefinition(
                python_name=name,
                graphql_name=to_camel_case(name),
                type_ref=parse_annotation(annotation, f"{self.cls.__qualname__}.{name}"),
                default=defaults.get(name, MISSING),
            )
        return fields

    @cached_property
    def computed(self) -> dict[str, ComputedFieldDefinition]:
        """``@field`` methods by Python name (empty for inputs)."""
        computed = {}
        for klass in reversed(self.cls.__mro__):
            for name, member in vars(klass).items():
                options = getattr(member, COMPUTED_ATTR, None)
                if options is None:
                    continue
                where = f"{self.cls.__qualname__}.{name}"
                arguments, type_ref = parse_signature(member, skip=2, where=where)
                computed[name] = ComputedFieldDefinition(
                    python_name=name,
                    graphql_name=options.name or to_camel_case(name),
                    func=member,
                    type_ref=type_ref,
                    arguments=arguments,
                    description=options.description or _docstring(member),
                )
        return computed

    def __repr__(self) -> str:
        return f"TypeDefinition({self.graphql_name!r}, kind={self.kind!r}, sql_source={self.sql_source!r})"


@dataclass(frozen=True)
class EnumDefinition:
    """An ``@enum`` class: GraphQL values are the member names (what views store)."""

    cls: type[enum.Enum]
    graphql_name: str
    description: str | None = None


@dataclass(frozen=True)
class QueryDefinition:
    """A root Query field: ``kind`` is "list", "one", "connection" or "custom"."""

    kind: str
    graphql_name: str
    type_cls: type | None = None
    resolver: Callable[..., Any] | None = None
    description: str | None = None

    @cached_property
    def signature(self) -> tuple[tuple[ArgumentDefinition, ...], TypeRef]:
        """Arguments and return type of a custom resolver ``f(info, ...)``."""
        assert self.resolver is not None
        return parse_signature(self.resolver, skip=1, where=self.graphql_name)


@dataclass(frozen=True)
class MutationDefinition:
    """An ``@mutation`` class: the SQL function and its input/success/error types."""

    cls: type
    graphql_name: str
    function: str
    invalidates: tuple[str, ...] = ()
    description: str | None = None

    @cached_property
    def parts(self) -> dict[str, type]:
        """``{"input": cls, "success": cls, "error": cls}`` from the class annotations."""
        hints = type_hints(self.cls)
        missing = [part for part in ("input", "success", "error") if part not in hints]
        if missing:
            raise AnnotationError(
                f"mutation {self.cls.__qualname__} must annotate input, success and error; "
                f"missing: {', '.join(missing)}"
            )
        return {part: hints[part] for part in ("input", "success", "error")}


def definition_of(cls: Any) -> Any:
    """The definition a decorator attached to ``cls``, or None."""
    return cls.__dict__.get(DEFINITION_ATTR) if isinstance(cls, type) else None


def docstring_of(obj: Any) -> str | None:
    return _docstring(obj)
