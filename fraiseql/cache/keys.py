"""Cache keys: one SHA-256 per (document, operation, variables, caller scope).

Two requests share a cache entry only when they ask the same thing as the same kind of
caller. The document is normalised first, so whitespace, commas and comments do not
split the cache; variables are encoded as canonical JSON (sorted keys), so their order
does not either. The scope (``RequestContext.scope()``: user, tenant, roles) is part of
the key, so results never leak between callers whose scopes differ.

Example::

    key = cache_key("{ posts { id } }", None, {}, scope="u=42;t=acme;r=")
    assert key == cache_key("{posts{id}}  # same", None, {}, scope="u=42;t=acme;r=")
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from graphql import GraphQLSyntaxError, strip_ignored_characters


def normalise_document(document: str) -> str:
    """The document without ignored tokens (whitespace, commas, comments).

    A document that does not lex is returned unchanged: it fails parsing later anyway,
    and its key only has to be stable, not pretty.
    """
    try:
        return strip_ignored_characters(document)
    except GraphQLSyntaxError:
        return document


def cache_key(
    document: str,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    scope: str,
) -> str:
    """A hex SHA-256 identifying one cacheable result.

    ``variables`` must be JSON-compatible (as they arrive over HTTP); anything else is a
    ``TypeError`` rather than a silently lossy key. An absent operation name and an
    empty one are different keys, as are ``None`` variables and ``{}`` (harmless: at worst
    a miss).
    """
    # One JSON array keeps the four parts apart: no concatenation of one part can
    # imitate another, whatever characters the document or the scope contain.
    material = json.dumps(
        [normalise_document(document), operation_name, variables, scope],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()
