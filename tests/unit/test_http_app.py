"""create_app's ASGI app: /graphql skips Starlette's stack only while nothing else needs it."""

from __future__ import annotations

import asyncio

import httpx
from graphql import GraphQLField, GraphQLObjectType, GraphQLSchema, GraphQLString

from fraiseql.config import FraiseQLConfig
from fraiseql.http import create_app

SCHEMA = GraphQLSchema(GraphQLObjectType("Query", {"hello": GraphQLField(GraphQLString)}))


async def _status(app: object, method: str, path: str) -> int:
    transport = httpx.ASGITransport(app=app)  # no lifespan: the executor is not built yet
    async with httpx.AsyncClient(transport=transport, base_url="http://app.test") as client:
        response = await client.request(method, path, json={"query": "{ hello }"})
    return response.status_code


def test_graphql_answers_the_same_with_and_without_middleware() -> None:
    seen: list[str] = []

    class Record:
        def __init__(self, app: object) -> None:
            self.app = app

        async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
            seen.append(scope.get("path", ""))
            await self.app(scope, receive, send)  # type: ignore[operator]

    plain = create_app(schema=SCHEMA, config=FraiseQLConfig(graphiql=False))
    watched = create_app(schema=SCHEMA, config=FraiseQLConfig(graphiql=False))
    watched.add_middleware(Record)
    for app in (plain, watched):
        assert asyncio.run(_status(app, "POST", "/graphql")) == 503  # SERVER_STARTING
        assert asyncio.run(_status(app, "PUT", "/graphql")) == 405  # the router still answers
    assert seen == ["/graphql", "/graphql"]  # the middleware saw every request
