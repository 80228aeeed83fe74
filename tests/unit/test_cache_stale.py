"""Stale answers: marked in the body and the headers, bytes of the data untouched; counted."""

from __future__ import annotations

import json

import pytest

from fraiseql.cache import ResultCache
from fraiseql.cache.stale import STALE_HEADER, mark_stale, stale_headers


def test_the_mark_is_spliced_in_and_the_data_keeps_its_bytes() -> None:
    body = b'{"data":{"price":1.10,"big":12345678901234567890}}'
    marked = mark_stale(body, 12.345)
    assert marked.startswith(b'{"data":{"price":1.10,"big":12345678901234567890}}'[:-1])
    assert json.loads(marked)["extensions"] == {"cache": {"stale": True, "age_s": 12.3}}


def test_an_empty_object_and_trailing_space_still_make_valid_json() -> None:
    assert json.loads(mark_stale(b"{}", 1)) == {"extensions": {"cache": {"stale": True, "age_s": 1}}}
    assert json.loads(mark_stale(b'{"data":null}\n', 1))["data"] is None


def test_not_an_object_is_refused() -> None:
    with pytest.raises(ValueError):
        mark_stale(b"[1]", 1)


def test_headers_say_stale_and_the_age_in_whole_seconds() -> None:
    assert stale_headers(12.9) == {STALE_HEADER: "stale", "Age": "12"}


async def test_the_cache_serves_stale_only_with_a_window_and_counts_it() -> None:
    now = [0.0]
    cache = ResultCache(ttl_s=1, max_stale_s=60, clock=lambda: now[0])
    await cache.set("k", b'{"data":{}}', ["tb_post"])
    now[0] = 5.0
    assert await cache.get("k") is None
    assert await cache.get_stale("k") == (b'{"data":{}}', 5.0)
    assert cache.stats.stale_served == 1 and cache.stats.as_dict()["stale_served"] == 1

    off = ResultCache(ttl_s=1, max_stale_s=0, clock=lambda: now[0])
    await off.set("k", b'{"data":{}}', ["tb_post"])
    assert await off.get_stale("k") is None and off.stats.stale_served == 0
