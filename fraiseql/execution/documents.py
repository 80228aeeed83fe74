"""Parsed and validated documents, cached by their exact text.

Parsing and validating a document costs more than executing a small query, and clients
send the same few documents again and again; the cache keeps the outcome (including
rejections, so a bad query repeated in a loop is rejected cheaply too).

Example::

    documents = DocumentCache(schema, config)
    prepared = documents.get("{ posts { id } }")   # raises GraphQLRequestError if invalid
    operation = prepared.operation(None)
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from threading import Lock

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
    validate,
)

from fraiseql import telemetry
from fraiseql.config import FraiseQLConfig
from fraiseql.errors import GraphQLRequestError
from fraiseql.execution.limits import enforce


@dataclass(frozen=True, slots=True)
class PreparedDocument:
    """A document that parsed, passed the limits and validated against the schema."""

    text: str
    document: DocumentNode
    fragments: dict[str, FragmentDefinitionNode] = field(hash=False)
    operations: dict[str | None, OperationDefinitionNode] = field(hash=False)

    def operation(self, name: str | None) -> OperationDefinitionNode:
        """The operation to run: by name, or the only one when no name is given."""
        if name:
            try:
                return self.operations[name]
            except KeyError:
                raise GraphQLRequestError(f"Unknown operation named '{name}'", "BAD_REQUEST") from None
        if len(self.operations) != 1:
            raise GraphQLRequestError(
                "The document has several operations; operationName is required", "BAD_REQUEST"
            )
        return next(iter(self.operations.values()))


class DocumentCache:
    """A bounded LRU of prepared documents (and of rejections) keyed by document text."""

    def __init__(self, schema: GraphQLSchema, config: FraiseQLConfig) -> None:
        self._schema = schema
        self._config = config
        self._entries: OrderedDict[str, PreparedDocument | GraphQLRequestError] = OrderedDict()
        self._lock = Lock()

    def get(self, text: str) -> PreparedDocument:
        with self._lock:
            cached = self._entries.get(text)
            if cached is not None:
                self._entries.move_to_end(text)
        if cached is None:
            cached = self._prepare(text)
            with self._lock:
                self._entries[text] = cached
                while len(self._entries) > self._config.document_cache_size:
                    self._entries.popitem(last=False)
        if isinstance(cached, GraphQLRequestError):
            raise cached
        return cached

    def _prepare(self, text: str) -> PreparedDocument | GraphQLRequestError:
        if len(text) > self._config.max_query_length:
            return GraphQLRequestError(
                f"Query is {len(text)} characters long; the maximum is {self._config.max_query_length}",
                "QUERY_TOO_LARGE",
            )
        with telemetry.span("graphql.parse", leaf=True):
            try:
                document = parse(text, max_tokens=self._config.max_query_length)
            except GraphQLError as exc:
                return _with_locations(
                    GraphQLRequestError(exc.message, "GRAPHQL_PARSE_FAILED"), [exc]
                )
            try:
                enforce(document, self._config)
            except GraphQLRequestError as exc:
                return exc
            errors = validate(self._schema, document)
        if errors:
            first = errors[0]
            rejection = GraphQLRequestError(first.message, "GRAPHQL_VALIDATION_FAILED")
            return _with_locations(rejection, errors)
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        operations = {
            (d.name.value if d.name else None): d
            for d in document.definitions
            if isinstance(d, OperationDefinitionNode)
        }
        return PreparedDocument(text, document, fragments, operations)


def _with_locations(error: GraphQLRequestError, causes: list[GraphQLError]) -> GraphQLRequestError:
    """Keep every validation message and its location for the client."""
    error.all_errors = [  # type: ignore[attr-defined]
        {
            "message": cause.message,
            **(
                {"locations": [{"line": loc.line, "column": loc.column} for loc in cause.locations]}
                if cause.locations
                else {}
            ),
            "extensions": {"code": error.code},
        }
        for cause in causes
    ]
    return error
