"""Marking a cached response as stale: ``extensions.cache`` and two response headers.

A stale answer must say so, to programs and to people: the body gets
``"extensions": {"cache": {"stale": true, "age_s": 12.3}}`` and the response the headers
``X-FraiseQL-Cache: stale`` and ``Age`` (RFC 9111: seconds since it was fresh from the
origin, here the database).

Cached bodies are exactly what the Rust pipeline wrote for a query without errors,
``{"data":{...}}``, never with extensions, so the member is spliced in before the final
brace: numbers and strings keep their bytes (decoding and re-encoding would not
preserve, say, ``1.10``).

Example::

    mark_stale(b'{"data":{"posts":[]}}', 12.34)
    # b'{"data":{"posts":[]},"extensions":{"cache":{"stale":true,"age_s":12.3}}}'
"""

from __future__ import annotations

import json

STALE_HEADER = "X-FraiseQL-Cache"


def mark_stale(body: bytes, age_s: float) -> bytes:
    """``body`` (a JSON object without ``extensions``) with ``extensions.cache`` added."""
    trimmed = body.rstrip()
    if not trimmed.endswith(b"}"):
        raise ValueError("a cached response must be a JSON object")
    member = json.dumps({"cache": {"stale": True, "age_s": round(age_s, 1)}}, separators=(",", ":"))
    separator = b"" if trimmed[:-1].rstrip() == b"{" else b","
    return trimmed[:-1] + separator + b'"extensions":' + member.encode() + b"}"


def stale_headers(age_s: float) -> dict[str, str]:
    """The headers of a stale response."""
    return {STALE_HEADER: "stale", "Age": str(int(age_s))}
