"""The result cache: in-process LRU, shared PostgreSQL UNLOGGED table, table-tag invalidation.

Example::

    from fraiseql.cache import PostgresCacheStore, ResultCache, cache_key, view_tables

    store = PostgresCacheStore(cache_db)
    await store.ensure()
    cache = ResultCache(ttl_s=30, store=store)
    tables = await view_tables(db, "v_post")          # frozenset({"tb_post", "tb_user"})
    key = cache_key(document, operation_name, variables, context.scope())
"""

from fraiseql.cache.dependencies import UnknownRelation, view_tables
from fraiseql.cache.keys import cache_key, normalise_document
from fraiseql.cache.lru import LocalLRU
from fraiseql.cache.result_cache import ResultCache, is_response
from fraiseql.cache.stats import CacheStats
from fraiseql.cache.store import PostgresCacheStore, StoredEntry

__all__ = [
    "CacheStats",
    "LocalLRU",
    "PostgresCacheStore",
    "ResultCache",
    "StoredEntry",
    "UnknownRelation",
    "cache_key",
    "is_response",
    "normalise_document",
    "view_tables",
]
