"""From declarations to documents and back: the SQL shape of a type, instances from rows.

``document_shape(Post)`` tells the SQL builders which keys a ``v_post`` document has and
their kinds; ``from_document(Post, doc)`` builds the Python object a computed field
receives as ``self`` (nested types, enums, timestamps converted; missing keys None).

Example::

    post = from_document(Post, {"title": "Hi", "published_at": "2024-01-02T03:04:05+00:00"})
    post.published_at.year  # 2024
"""

from __future__ import annotations

import datetime
import decimal
import enum
import uuid
from typing import Any

from fraiseql.sql.shape import DocumentShape, FieldShape
from fraiseql.types.annotations import TypeRef, scalar_kind
from fraiseql.types.definitions import EnumDefinition, TypeDefinition, definition_of

_SHAPES: dict[type, DocumentShape] = {}


def type_definition(cls: Any) -> TypeDefinition:
    definition = definition_of(cls)
    if not isinstance(definition, TypeDefinition):
        raise TypeError(f"{cls!r} is not a class declared with @type or @input")
    return definition


def document_shape(cls: type) -> DocumentShape:
    """The shape of ``cls``'s documents (cached; cyclic references share one shape)."""
    shape = _SHAPES.get(cls)
    if shape is not None:
        return shape
    definition = type_definition(cls)
    shape = DocumentShape(name=definition.graphql_name)
    _SHAPES[cls] = shape  # registered before filling, so a cycle finds it
    for field in definition.fields.values():
        shape.fields[field.python_name] = _field_shape(field.type_ref)
        shape.aliases[field.graphql_name] = field.python_name
    return shape


def _field_shape(ref: TypeRef) -> FieldShape:
    inner = ref.innermost
    is_list = ref.is_list
    kind = scalar_kind(inner.base)
    if kind is not None:
        return FieldShape(kind, is_list)
    target = definition_of(inner.base)
    if isinstance(target, EnumDefinition):
        return FieldShape("enum", is_list)
    if isinstance(target, TypeDefinition):
        return FieldShape("object", is_list, document_shape(inner.base))
    raise TypeError(f"{inner.base!r} is not a scalar, @enum or @type")


def from_document(cls: type, document: Any) -> Any:
    """An instance of ``cls`` whose attributes come from ``document`` (a dict)."""
    if document is None or isinstance(document, cls):
        return document
    instance = cls.__new__(cls)  # no __init__: a document may lack optional keys
    for field in type_definition(cls).fields.values():
        value = document.get(field.source_key) if isinstance(document, dict) else None
        setattr(instance, field.python_name, convert(field.type_ref, value))
    return instance


def convert(ref: TypeRef, value: Any) -> Any:
    """A JSON value as the Python value ``ref`` declares (lenient: leaves odd values as is)."""
    if value is None:
        return None
    if ref.is_list and ref.item is not None:
        return [convert(ref.item, item) for item in value] if isinstance(value, list) else value
    base = ref.base
    try:
        if isinstance(definition_of(base), TypeDefinition):
            return from_document(base, value)
        if isinstance(definition_of(base), EnumDefinition) and isinstance(value, str):
            return base[value]
        if base is datetime.datetime and isinstance(value, str):
            return datetime.datetime.fromisoformat(value)
        if base is datetime.date and isinstance(value, str):
            return datetime.date.fromisoformat(value)
        if base is decimal.Decimal and isinstance(value, (str, int, float)):
            return decimal.Decimal(str(value))
        if base is uuid.UUID and isinstance(value, str):
            return uuid.UUID(value)
    except (ValueError, KeyError, decimal.InvalidOperation):
        return value
    return value


def to_json_value(value: Any) -> Any:
    """A coerced GraphQL input value as JSON-ready data (enums by name, ISO timestamps)."""
    if isinstance(value, dict):
        return {key: to_json_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_value(item) for item in value]
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    return value
