"""Executes one GraphQL operation: the fast path, graphql-core, or both merged.

Fast path (a query whose root fields read views): each root field becomes one
parameterised ``SELECT data::text`` and a compiled selection plan; the rows go to the
Rust pipeline as text and come back as the finished response bytes. Python never decodes
a row. Everything else (mutations, custom resolvers, connections, computed fields,
introspection) runs through graphql-core; when a query mixes both, graphql-core runs on
the other root fields only and its values are merged into the Rust-built response.

Fast-path reads are retried after transient failures (``Database.read_retry``); when the
database fails anyway (or its circuit is open) a cacheable query is answered from the
result cache, marked stale, if it was cached within ``cache_max_stale_s``.

Example::

    executor = Executor(schema, db, cache=None, config=FraiseQLConfig())
    result = await executor.execute(GraphQLRequest(query="{ posts(limit: 2) { id } }"), ctx)
    result.body  # b'{"data":{"posts":[{"id":"..."},{"id":"..."}]}}'
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    execute,
)
from graphql.execution.collect_fields import collect_fields
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.type import is_non_null_type
import psycopg
from psycopg import sql

from fraiseql import faults, telemetry
from fraiseql.cache import ResultCache, cache_key
from fraiseql.cache.stale import mark_stale, stale_headers
from fraiseql.config import FraiseQLConfig
from fraiseql.context import RequestContext
from fraiseql.db.pool import Database
from fraiseql.db.repository import Repository
from fraiseql.errors import DatabaseTimeout, DatabaseUnavailable, FraiseQLError, GraphQLRequestError
from fraiseql.execution.access import AccessRules, check_requirements
from fraiseql.execution.documents import DocumentCache, PreparedDocument
from fraiseql.execution.introspection import mentions_introspection, merge_results, split_root_fields
from fraiseql.execution.plans import PlanCache, PlannedOperation, plan_key
from fraiseql.pipeline import build_response
from fraiseql.pipeline.plan import PlanNotSupported, compiled_plan_for_root_field

if TYPE_CHECKING:
    from fraiseql.rbac.visibility import VisibleSchemas

logger = logging.getLogger("fraiseql.execution")
_PIPELINE = faults.point("pipeline.build")
_FAST_KINDS = ("list", "one")


@dataclass(frozen=True, slots=True)
class GraphQLRequest:
    query: str
    variables: dict[str, Any] | None = None
    operation_name: str | None = None


@dataclass(slots=True)
class ExecutionOutcome:
    """The response body and the HTTP status it deserves."""

    body: bytes
    status: int = 200
    operation_type: str = "query"
    error_codes: list[str] = field(default_factory=list)
    headers: dict[str, str] | None = None  # extra response headers (Retry-After, stale marks)


@dataclass(frozen=True, slots=True)
class _FastField:
    out_key: str
    kind: str
    plan: Any
    query: Any
    params: Any
    nullable: bool
    tables_key: str  # the view, for cache tags


class Executor:
    """Runs prepared documents against one schema, database and cache."""

    def __init__(
        self,
        schema: GraphQLSchema,
        db: Database,
        *,
        cache: ResultCache | None = None,
        config: FraiseQLConfig | None = None,
        view_tables: dict[str, frozenset[str]] | None = None,
        visible_schemas: VisibleSchemas | None = None,
    ) -> None:
        self.schema = schema
        self.db = db
        self.cache = cache
        self.config = config or FraiseQLConfig()
        self.documents = DocumentCache(schema, self.config)
        self.access = AccessRules(schema)
        self.plans = PlanCache(self.config.document_cache_size)
        self._in_flight: dict[str, asyncio.Future[ExecutionOutcome]] = {}  # cache key -> leader
        # view -> base tables it reads; filled at start-up, consulted to tag cache entries.
        self.view_tables: dict[str, frozenset[str]] = view_tables if view_tables is not None else {}
        # fraiseql.rbac.VisibleSchemas: introspection shows each caller only what it may use.
        self.visible_schemas = visible_schemas

    async def execute(
        self, request: GraphQLRequest, context: RequestContext, extra_context: dict[str, Any] | None = None
    ) -> ExecutionOutcome:
        prepared = self.documents.get(request.query)
        operation = prepared.operation(request.operation_name)
        planned = self._planned(prepared, operation, request)
        variables = planned.variables
        kind = operation.operation.value
        if planned.requirements:
            check_requirements(planned.requirements, context.user)
        if self.visible_schemas is not None and kind == "query" and mentions_introspection(request.query):
            outcome = await self._run_introspection(prepared, operation, request, variables, context, extra_context)
            if outcome is not None:
                return outcome
        if planned.fast is not None:
            return await self._run_fast(prepared, operation, request, variables, planned.fast, context, extra_context)
        # graphql-core coerces the client's raw variables itself.
        outcome = await self._run_graphql_core(
            prepared, operation, request.variables or {}, context, extra_context
        )
        outcome.operation_type = kind
        if operation.operation is OperationType.MUTATION:
            await self._invalidate_after_mutation(operation)
        return outcome

    def _planned(
        self, prepared: PreparedDocument, operation: OperationDefinitionNode, request: GraphQLRequest
    ) -> PlannedOperation:
        """Coerced variables and the fast-path plan, reused for the same document and variables."""
        key = plan_key(request.query, request.operation_name, request.variables)
        planned = self.plans.get(key)
        if planned is None:
            variables = self._coerce_variables(operation, request.variables)
            fast = None
            if operation.operation is OperationType.QUERY and self.config.fast_path:
                fast = self._plan_fast_fields(prepared, operation, variables)
            requirements: tuple[Any, ...] = ()
            if self.access.enabled:
                root = self.schema.get_root_type(operation.operation)
                assert root is not None  # validation rejected operations the schema lacks
                requirements = self.access.requirements(
                    root, operation.selection_set, prepared.fragments, variables
                )
            planned = self.plans.put(key, PlannedOperation(variables, fast, requirements))
        return planned

    # -- variables -------------------------------------------------------------------

    def _coerce_variables(
        self, operation: OperationDefinitionNode, raw: dict[str, Any] | None
    ) -> dict[str, Any]:
        coerced = get_variable_values(self.schema, operation.variable_definitions or (), raw or {})
        if isinstance(coerced, list):
            error = GraphQLRequestError(coerced[0].message, "BAD_USER_INPUT")
            error.all_errors = [  # type: ignore[attr-defined]
                {"message": e.message, "extensions": {"code": "BAD_USER_INPUT"}} for e in coerced
            ]
            raise error
        return coerced

    # -- fast path -------------------------------------------------------------------

    def _root_fields(
        self, prepared: PreparedDocument, operation: OperationDefinitionNode, variables: dict[str, Any]
    ) -> dict[str, list[FieldNode]]:
        root_type = self.schema.query_type
        assert root_type is not None
        return collect_fields(
            self.schema, prepared.fragments, variables, root_type, operation.selection_set
        )

    def _plan_fast_fields(
        self, prepared: PreparedDocument, operation: OperationDefinitionNode, variables: dict[str, Any]
    ) -> list[_FastField | tuple[str, list[FieldNode]]] | None:
        """Plans for every root field, or None when no root field can take the fast path."""
        root_type = self.schema.query_type
        assert root_type is not None
        planned: list[_FastField | tuple[str, list[FieldNode]]] = []
        any_fast = False
        for out_key, nodes in self._root_fields(prepared, operation, variables).items():
            fast = self._plan_one(root_type, out_key, nodes, prepared, variables)
            if fast is None:
                planned.append((out_key, nodes))
            else:
                planned.append(fast)
                any_fast = True
        return planned if any_fast else None

    def _plan_one(
        self,
        root_type: GraphQLObjectType,
        out_key: str,
        nodes: list[FieldNode],
        prepared: PreparedDocument,
        variables: dict[str, Any],
    ) -> _FastField | None:
        name = nodes[0].name.value
        field_def = root_type.fields.get(name)
        meta = field_def.extensions.get("fraiseql") if field_def is not None else None
        if meta is None or getattr(meta, "kind", None) not in _FAST_KINDS:
            return None
        try:
            plan = compiled_plan_for_root_field(
                self.schema, nodes, prepared.fragments, variables, root_type
            )
        except PlanNotSupported:
            return None
        args = get_argument_values(field_def, nodes[0], variables)
        query, params = meta.build_sql(args)
        return _FastField(
            out_key=out_key,
            kind=meta.kind,
            plan=plan,
            query=rendered_sql(query),
            params=params,
            nullable=not is_non_null_type(field_def.type),
            tables_key=meta.type_meta.sql_source,
        )

    async def _run_fast(
        self,
        prepared: PreparedDocument,
        operation: OperationDefinitionNode,
        request: GraphQLRequest,
        variables: dict[str, Any],
        planned: list[_FastField | tuple[str, list[FieldNode]]],
        context: RequestContext,
        extra_context: dict[str, Any] | None,
    ) -> ExecutionOutcome:
        cacheable = self.cache is not None and all(isinstance(p, _FastField) for p in planned)
        if not cacheable:
            return await self._compute_fast(prepared, operation, request, planned, context,
                                            extra_context, None)
        key = cache_key(request.query, request.operation_name, request.variables or {}, context.scope())
        if not self.config.cache_coalesce:
            return await self._lookup_or_compute(prepared, operation, request, planned, context,
                                                 extra_context, key)
        # Identical requests in flight together share one lookup and one computation: a hot
        # entry that expires under load costs one database query, not one per waiting client.
        leader = self._in_flight.get(key)
        if leader is not None:
            self.cache.stats.coalesced += 1  # type: ignore[union-attr]
            try:
                return await asyncio.shield(leader)
            except asyncio.CancelledError:
                if not leader.cancelled():
                    raise
                # the leader's client went away: look and compute for ourselves
        future: asyncio.Future[ExecutionOutcome] = asyncio.get_running_loop().create_future()
        self._in_flight[key] = future
        try:
            outcome = await self._lookup_or_compute(prepared, operation, request, planned, context,
                                                    extra_context, key)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here, so no "never retrieved" warning without followers
            raise
        else:
            future.set_result(outcome)
            return outcome
        finally:
            if self._in_flight.get(key) is future:
                del self._in_flight[key]

    async def _lookup_or_compute(
        self,
        prepared: PreparedDocument,
        operation: OperationDefinitionNode,
        request: GraphQLRequest,
        planned: list[_FastField | tuple[str, list[FieldNode]]],
        context: RequestContext,
        extra_context: dict[str, Any] | None,
        key: str,
    ) -> ExecutionOutcome:
        hit = await self.cache.get(key)  # type: ignore[union-attr]
        if hit is not None:
            telemetry.record_cache("hit")
            return ExecutionOutcome(hit)
        telemetry.record_cache("miss")
        return await self._compute_fast(prepared, operation, request, planned, context,
                                        extra_context, key)

    async def _compute_fast(
        self,
        prepared: PreparedDocument,
        operation: OperationDefinitionNode,
        request: GraphQLRequest,
        planned: list[_FastField | tuple[str, list[FieldNode]]],
        context: RequestContext,
        extra_context: dict[str, Any] | None,
        key: str | None,
    ) -> ExecutionOutcome:
        """Fetch, build and (with a key) cache the fast path's answer."""
        cacheable = key is not None
        fast_fields = [p for p in planned if isinstance(p, _FastField)]
        other_fields = [p for p in planned if not isinstance(p, _FastField)]
        pending: list[Any] = [
            self.db.fetch_documents(f.query, f.params, context=context, retry=True)
            for f in fast_fields
        ]
        if other_fields:
            pending.append(
                self._run_subset(
                    prepared, operation, request.variables or {}, other_fields, context, extra_context
                )
            )
        if len(pending) == 1:  # the common case: no task to schedule for one statement
            try:
                outcomes = [await pending[0]]
            except Exception as exc:  # noqa: BLE001 - sorted out below, as gather's would be
                outcomes = [exc]
        else:
            outcomes = await asyncio.gather(*pending, return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, FraiseQLError):
                return await self._stale_or_error(key, outcome)
            if isinstance(outcome, BaseException):
                raise outcome
        results = outcomes[: len(fast_fields)]
        other_values: dict[str, Any] = {}
        other_errors: list[str] = []
        if other_fields:
            executed: ExecutionResult = outcomes[-1]
            other_values = executed.data or {}
            other_errors = [json.dumps(format_error(e)) for e in executed.errors or ()]

        rows_by_key = {f.out_key: rows for f, rows in zip(fast_fields, results)}
        roots: list[tuple[Any, ...]] = []
        for entry in planned:
            if isinstance(entry, _FastField):
                roots.append(
                    ("rows", entry.out_key, entry.plan, rows_by_key[entry.out_key],
                     entry.kind == "one", entry.nullable)
                )
            else:
                out_key = entry[0]
                roots.append(("raw", out_key, json.dumps(other_values.get(out_key))))
        if _PIPELINE.hooks:
            roots = await _PIPELINE.fire(roots)
        with telemetry.span("pipeline.build", leaf=True):
            body = build_response(roots, other_errors or None)
        if cacheable and key is not None and not other_errors and b'"errors"' not in body[:12]:
            tables = self._tables_for(fast_fields)
            if tables is not None:
                await self.cache.set(key, body, tables)  # type: ignore[union-attr]
        return ExecutionOutcome(body)

    async def _stale_or_error(self, key: str | None, error: FraiseQLError) -> ExecutionOutcome:
        """The cached answer, marked stale, when the database failed us; else the error."""
        if key is not None and isinstance(error, (DatabaseUnavailable, DatabaseTimeout)):
            stale = await self.cache.get_stale(key)  # type: ignore[union-attr]
            if stale is not None:
                body, age_s = stale
                return ExecutionOutcome(mark_stale(body, age_s), headers=stale_headers(age_s))
        return error_outcome(error)

    def _tables_for(self, fields: list[_FastField]) -> list[str] | None:
        """The base tables behind the fields' views, or None if any is still unknown."""
        tables: set[str] = set()
        for f in fields:
            known = self.view_tables.get(f.tables_key)
            if known is None:
                return None
            tables |= known
        return sorted(tables)

    def _run_subset(
        self,
        prepared: PreparedDocument,
        operation: OperationDefinitionNode,
        variables: dict[str, Any],
        fields: list[tuple[str, list[FieldNode]]],
        context: RequestContext,
        extra_context: dict[str, Any] | None,
    ):
        """graphql-core on the root fields the fast path does not take."""
        selections = tuple(node for _, nodes in fields for node in nodes)
        narrowed = replace_selection(operation, selections)
        return self._execute_core(prepared, narrowed, variables, context, extra_context)

    # -- introspection on the caller's view ------------------------------------------

    async def _run_introspection(
        self,
        prepared: PreparedDocument,
        operation: OperationDefinitionNode,
        request: GraphQLRequest,
        variables: dict[str, Any],
        context: RequestContext,
        extra_context: dict[str, Any] | None,
    ) -> ExecutionOutcome | None:
        """``__schema``/``__type`` on the caller's view, the rest on the schema; None when
        the operation does not introspect after all."""
        groups = self._root_fields(prepared, operation, variables)
        intro, rest = split_root_fields(groups)
        if not intro:
            return None
        raw = request.variables or {}
        view = self.visible_schemas.for_user(context.user)  # type: ignore[union-attr]
        parts = [await self._execute_core(
            prepared, replace_selection(operation, intro), raw, context, extra_context, schema=view
        )]
        if rest:
            parts.append(await self._execute_core(
                prepared, replace_selection(operation, rest), raw, context, extra_context
            ))
        return outcome_of(merge_results(list(groups), parts))

    # -- graphql-core path -----------------------------------------------------------

    async def _execute_core(
        self,
        prepared: PreparedDocument,
        operation: OperationDefinitionNode,
        variables: dict[str, Any],
        context: RequestContext,
        extra_context: dict[str, Any] | None,
        *,
        schema: GraphQLSchema | None = None,
    ) -> ExecutionResult:
        document = DocumentNode(definitions=(operation, *prepared.fragments.values()))
        context_value = {
            "db": self.db,
            "repository": Repository(self.db, context),
            "user": context.user,
            "request_context": context,
            "cache": self.cache,
            "config": self.config,
            **(extra_context or {}),
        }
        result = execute(
            schema or self.schema,
            document,
            variable_values=variables,
            context_value=context_value,
            operation_name=operation.name.value if operation.name else None,
        )
        if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
            result = await result
        return result

    async def _run_graphql_core(
        self,
        prepared: PreparedDocument,
        operation: OperationDefinitionNode,
        variables: dict[str, Any],
        context: RequestContext,
        extra_context: dict[str, Any] | None,
    ) -> ExecutionOutcome:
        result = await self._execute_core(prepared, operation, variables, context, extra_context)
        return outcome_of(result)

    async def _invalidate_after_mutation(self, operation: OperationDefinitionNode) -> None:
        if self.cache is None or self.schema.mutation_type is None:
            return
        tables: set[str] = set()
        for selection in operation.selection_set.selections:
            if isinstance(selection, FieldNode):
                field_def = self.schema.mutation_type.fields.get(selection.name.value)
                meta = field_def.extensions.get("fraiseql") if field_def else None
                tables.update(getattr(meta, "invalidates", ()) or ())
        if tables:
            await self.cache.invalidate(sorted(tables))


def outcome_of(result: ExecutionResult) -> ExecutionOutcome:
    """A graphql-core result as response bytes and the status they deserve."""
    payload: dict[str, Any] = {}
    status = 200
    codes: list[str] = []
    if result.errors:
        formatted = [format_error(e) for e in result.errors]
        payload["errors"] = formatted
        codes = [e["extensions"]["code"] for e in formatted]
        status = status_for(result.errors, result.data)
    payload["data"] = result.data
    return ExecutionOutcome(json.dumps(payload).encode(), status, error_codes=codes)


def rendered_sql(query: Any) -> Any:
    """``query`` composed to bytes once, when that is safe without a connection.

    psycopg composes an ``sql.Composed`` again on every execution; a planned statement
    runs many times, so the fast path keeps its text. Composing without a connection
    quotes identifiers and string literals the standard way, which every server reads
    the same for ASCII text without backslashes; anything else stays composed.
    """
    if not isinstance(query, sql.Composable):
        return query
    try:
        text = query.as_bytes(None)
    except (TypeError, ValueError, psycopg.Error):
        return query
    return text if text.isascii() and b"\\" not in text else query


def replace_selection(
    operation: OperationDefinitionNode, selections: tuple[Any, ...]
) -> OperationDefinitionNode:
    """A copy of the operation that selects only ``selections`` at its root."""
    narrowed = copy.copy(operation)
    narrowed.selection_set = SelectionSetNode(selections=selections)
    return narrowed


def format_error(error: GraphQLError) -> dict[str, Any]:
    """A GraphQL error as JSON, always with ``extensions.code``; never a traceback."""
    original = error.original_error
    if isinstance(original, FraiseQLError):
        formatted = original.to_graphql(list(error.path) if error.path else None)
        if error.locations:
            formatted["locations"] = [{"line": l.line, "column": l.column} for l in error.locations]
        return formatted
    formatted = error.formatted
    extensions = dict(formatted.get("extensions") or {})
    if original is not None and not isinstance(original, GraphQLError):
        # An unexpected exception in a resolver: logged with its traceback; its text
        # stays on the server.
        logger.error("unexpected error in a resolver at %s", error.path, exc_info=original)
        formatted = {**formatted, "message": "Internal server error"}
        extensions.setdefault("code", "INTERNAL_SERVER_ERROR")
    extensions.setdefault("code", "BAD_USER_INPUT" if error.path is None else "GRAPHQL_ERROR")
    return {**formatted, "extensions": extensions}


def status_for(errors: list[GraphQLError], data: Any) -> int:
    """503 when the database failed us and nothing could be answered; else 200."""
    originals = [e.original_error for e in errors if isinstance(e.original_error, FraiseQLError)]
    if data is None or all(v is None for v in (data or {}).values()):
        statuses = [o.status for o in originals if o.status >= 400]
        if statuses:
            return max(statuses)
    return 200


def error_outcome(error: FraiseQLError) -> ExecutionOutcome:
    """The whole request failed with ``error`` before any data existed."""
    telemetry.record_error(error.code)
    body = json.dumps({"errors": [error.to_graphql()], "data": None}).encode()
    retry_after_s = getattr(error, "retry_after_s", None)
    headers = {"Retry-After": str(retry_after_s)} if retry_after_s else None
    return ExecutionOutcome(body, error.status, error_codes=[error.code], headers=headers)
