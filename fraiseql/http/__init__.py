"""The ASGI front: GraphQL over HTTP, health and readiness, GraphiQL."""

from fraiseql.http.app import create_app

__all__ = ["create_app"]
