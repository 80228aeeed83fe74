"""Query fields: list, one, connection (view-backed) and custom resolvers.

View-backed fields carry ``RootFieldMeta.build_sql`` so the fast path can run them
without these resolvers; the resolvers here serve the graphql-core path.

Example (SDL)::

    posts(where: PostWhereInput, orderBy: [PostOrderByInput!], limit: Int, offset: Int): [Post!]!
    post(id: ID!): Post
    postsConnection(first: Int, after: String, where: PostWhereInput,
                    orderBy: [PostOrderByInput!]): PostConnection!
"""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLBoolean,
    GraphQLField,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLString,
)

from fraiseql.auth.requirements import requirement_of
from fraiseql.schema.filters import where_input
from fraiseql.schema.graphql_types import TypeMapper
from fraiseql.schema.metadata import EXTENSION_KEY, RootFieldMeta
from fraiseql.schema.ordering import order_by_input
from fraiseql.schema.resolvers import (
    database,
    request_context,
    resolve_custom,
    resolve_list,
    resolve_one,
)
from fraiseql.sql import build_count, build_page, build_select, build_select_by_id, page_from_rows
from fraiseql.types.definitions import QueryDefinition, TypeDefinition, definition_of
from fraiseql.types.documents import document_shape
from fraiseql.types.scalars import IDScalar


def order_by_arg(args: dict[str, Any]) -> Any:
    """orderBy as coerced with or without ``out_name``."""
    return args.get("order_by", args.get("orderBy"))


def _filter_args(mapper: TypeMapper, cls: type) -> dict[str, GraphQLArgument]:
    return {
        "where": GraphQLArgument(where_input(mapper, cls)),
        "orderBy": GraphQLArgument(
            GraphQLList(GraphQLNonNull(order_by_input(mapper, cls))), out_name="order_by"
        ),
    }


def query_field(mapper: TypeMapper, query: QueryDefinition, max_limit: int) -> GraphQLField:
    """The Query field for one declared query."""
    if query.kind == "custom":
        return _custom_field(mapper, query)
    cls = query.type_cls
    assert cls is not None
    definition: TypeDefinition = definition_of(cls)
    source = definition.sql_source
    assert source is not None
    shape = document_shape(cls)
    type_meta = mapper.type_meta(cls)
    object_type = mapper.object_type(cls)

    if query.kind == "list":
        def build_list(args: dict[str, Any]) -> Any:
            return build_select(
                source, shape, where=args.get("where"), order_by=order_by_arg(args),
                limit=args.get("limit"), offset=args.get("offset"), max_limit=max_limit,
                text_column=definition.text_column,
            )

        meta = RootFieldMeta("list", type_meta, query.graphql_name, build_list)
        return GraphQLField(
            GraphQLNonNull(GraphQLList(GraphQLNonNull(object_type))),
            args={
                **_filter_args(mapper, cls),
                "limit": GraphQLArgument(GraphQLInt, description=f"At most {max_limit}."),
                "offset": GraphQLArgument(GraphQLInt),
            },
            resolve=resolve_list(build_list),
            description=query.description,
            extensions={EXTENSION_KEY: meta},
        )

    if query.kind == "one":
        def build_one(args: dict[str, Any]) -> Any:
            return build_select_by_id(source, args["id"], text_column=definition.text_column)

        meta = RootFieldMeta("one", type_meta, query.graphql_name, build_one)
        return GraphQLField(
            object_type,
            args={"id": GraphQLArgument(GraphQLNonNull(IDScalar))},
            resolve=resolve_one(build_one),
            description=query.description,
            extensions={EXTENSION_KEY: meta},
        )

    meta = RootFieldMeta("connection", type_meta, query.graphql_name)

    async def resolve_connection(_root: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
        where = args.get("where")
        statement, params, keys, size = build_page(
            source, shape, first=args.get("first"), after=args.get("after"),
            where=where, order_by=order_by_arg(args), max_first=max_limit,
        )
        context = request_context(info)
        rows = await database(info).fetch_texts(statement, params, context=context)
        page = page_from_rows(rows, keys, size, args.get("after"))

        async def total_count(count_info: GraphQLResolveInfo) -> int:
            count_query, count_params = build_count(source, shape, where=where)
            return await database(count_info).fetch_value(count_query, count_params, context=context)

        page["totalCount"] = total_count  # only runs when selected
        return page

    return GraphQLField(
        GraphQLNonNull(connection_type(mapper, object_type)),
        args={
            "first": GraphQLArgument(GraphQLInt, description=f"Page size, 0 to {max_limit}."),
            "after": GraphQLArgument(GraphQLString, description="An endCursor of a previous page."),
            **_filter_args(mapper, cls),
        },
        resolve=resolve_connection,
        description=query.description,
        extensions={EXTENSION_KEY: meta},
    )


def _custom_field(mapper: TypeMapper, query: QueryDefinition) -> GraphQLField:
    arguments, return_ref = query.signature
    return_base = return_ref.innermost.base
    target = definition_of(return_base)
    type_meta = mapper.type_meta(return_base) if isinstance(target, TypeDefinition) else None
    assert query.resolver is not None
    return GraphQLField(
        mapper.output(return_ref),
        args=mapper.arguments(arguments),
        resolve=resolve_custom(query.resolver),
        description=query.description,
        extensions={
            EXTENSION_KEY: RootFieldMeta(
                "custom", type_meta, query.graphql_name, requirement=requirement_of(query.resolver)
            )
        },
    )


def page_info_type(mapper: TypeMapper) -> GraphQLObjectType:
    return mapper.named(
        "PageInfo",
        lambda: GraphQLObjectType(
            "PageInfo",
            {
                "hasNextPage": GraphQLField(GraphQLNonNull(GraphQLBoolean)),
                "hasPreviousPage": GraphQLField(GraphQLNonNull(GraphQLBoolean)),
                "startCursor": GraphQLField(GraphQLString),
                "endCursor": GraphQLField(GraphQLString),
            },
            description="Where a page sits in the whole result.",
        ),
    )


def connection_type(mapper: TypeMapper, node_type: GraphQLObjectType) -> GraphQLObjectType:
    """``<T>Connection {edges {cursor node} pageInfo totalCount}`` and ``<T>Edge``."""
    name = node_type.name
    edge = mapper.named(
        f"{name}Edge",
        lambda: GraphQLObjectType(
            f"{name}Edge",
            {
                "cursor": GraphQLField(GraphQLNonNull(GraphQLString)),
                "node": GraphQLField(GraphQLNonNull(node_type)),
            },
        ),
    )
    return mapper.named(
        f"{name}Connection",
        lambda: GraphQLObjectType(
            f"{name}Connection",
            {
                "edges": GraphQLField(GraphQLNonNull(GraphQLList(GraphQLNonNull(edge)))),
                "pageInfo": GraphQLField(GraphQLNonNull(page_info_type(mapper))),
                "totalCount": GraphQLField(
                    GraphQLNonNull(GraphQLInt), description="Rows matching `where`, all pages."
                ),
            },
            description=f"A page of {name} in keyset order.",
        ),
    )
