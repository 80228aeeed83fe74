"""The graphql-core schema built from the declarations, with FraiseQL metadata.

Example::

    from fraiseql.schema import build_schema
    schema = build_schema()
    schema.query_type.fields["posts"].extensions["fraiseql"].kind  # "list"
"""

from fraiseql.schema.builder import SchemaError, build_schema
from fraiseql.schema.metadata import FieldMeta, RootFieldMeta, TypeMeta, fraiseql_meta

__all__ = ["FieldMeta", "RootFieldMeta", "SchemaError", "TypeMeta", "build_schema", "fraiseql_meta"]
