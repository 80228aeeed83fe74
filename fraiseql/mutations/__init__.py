"""Mutations: a PostgreSQL function call in one transaction, idempotent per key, retried."""

from fraiseql.mutations.runner import run_mutation

__all__ = ["run_mutation"]
