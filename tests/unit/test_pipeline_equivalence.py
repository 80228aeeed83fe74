"""Property tests: the Rust pipeline and the pure-Python reference agree on every input.

Documents are generated as trees and written out as JSON text with varied
whitespace and escaping (so rows hold escapes, astral characters, control
characters, big numbers and exponents, duplicate keys, deep nesting); plan specs
are random selections with aliases, duplicates under aliases and ``__typename``.
Both outputs must be valid JSON and equal, numbers compared by their exact text.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fraiseql import pipeline
from fraiseql.pipeline import reference

KEYS = ["id", "name", "created_at", "tags", "author", "comments", "é", "😀", 'q"uote', "a\\b", "\x01"]
OUT_KEYS = ["id", "name", "createdAt", "x", "y", "author", "__typename", "ünï", "k\n"]
TRICKY_STRING_BODIES = ["\\ud800", "\\udc00x", "\\ud83d\\ude00", "\\u0000", "\\/", "\\b\\f\\n\\r\\t", "\\\"\\\\"]

# ---- documents ------------------------------------------------------------------

text_chars = st.characters(blacklist_categories=("Cs",))  # any code point that UTF-8 can hold
number_texts = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.builds(
        lambda sign, whole, fraction, exponent: f"{sign}{whole}{fraction}{exponent}",
        st.sampled_from(["", "-"]),
        st.sampled_from(["0", "1", "42", "123456789012345678901234567890"]),
        st.sampled_from(["", ".0", ".5", ".000001", ".14159265358979323846264338327950288"]),
        st.sampled_from(["", "e0", "E+10", "e-300", "e400", "E-0007"]),
    ),
)
leaves = st.one_of(
    st.just(("lit", "null")),
    st.sampled_from([("lit", "true"), ("lit", "false")]),
    number_texts.map(lambda text: ("num", text)),
    st.tuples(st.just("str"), st.text(text_chars, max_size=20), st.booleans()),
    st.sampled_from(TRICKY_STRING_BODIES).map(lambda body: ("escaped", body)),
)
keys = st.tuples(st.sampled_from(KEYS) | st.text(text_chars, max_size=4), st.booleans())


def containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=4).map(lambda items: ("arr", items)),
        st.lists(st.tuples(keys, children), max_size=8).map(lambda members: ("obj", members)),
    )


nodes = st.recursive(leaves, containers, max_leaves=40)
documents = st.lists(st.tuples(keys, nodes), max_size=10).map(lambda members: ("obj", members))


def write_string(text: str, escape_all: bool) -> str:
    if not escape_all:
        return json.dumps(text, ensure_ascii=False)
    escaped = text.encode("utf-16-be")
    units = [escaped[i : i + 2].hex() for i in range(0, len(escaped), 2)]
    return '"' + "".join(f"\\u{unit}" for unit in units) + '"'


def write(node: Any, space: str) -> str:
    kind = node[0]
    if kind in ("lit", "num"):
        return node[1]
    if kind == "str":
        return write_string(node[1], node[2])
    if kind == "escaped":
        return f'"{node[1]}"'
    if kind == "arr":
        return "[" + space + f",{space}".join(write(item, space) for item in node[1]) + space + "]"
    members = (f"{write_string(*key)}{space}:{space}{write(value, space)}" for key, value in node[1])
    return "{" + space + f",{space}".join(members) + space + "}"


def corrupt(text: str | bytes, how: int) -> str | bytes:
    if isinstance(text, bytes):
        return text + b"\xff" if how == 2 else corrupt(text.decode("utf-8"), how)
    if how == 0:
        return text[: len(text) // 2]
    if how == 1:
        return text + " x"
    return text.replace(":", "", 1) if ":" in text else text + "}"


row_texts = st.tuples(documents, st.sampled_from(["", " ", "\n\t "])).map(lambda d: write(d[0], d[1]))
rows = st.lists(
    st.one_of(row_texts, row_texts.map(lambda text: text.encode("utf-8")), st.just(None)),
    max_size=4,
)


# ---- plan specs -----------------------------------------------------------------


def spec_entries(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    field = st.tuples(st.just("field"), st.sampled_from(OUT_KEYS), st.sampled_from(KEYS), st.none() | children)
    typename = st.tuples(st.just("typename"), st.sampled_from(OUT_KEYS), st.sampled_from(["Post", "User"]))
    return st.lists(field | typename, max_size=6, unique_by=lambda entry: entry[1]).map(tuple)


specs = st.recursive(st.just(()), spec_entries, max_leaves=12)


# ---- comparison -----------------------------------------------------------------


def parse(body: bytes) -> Any:
    """Parses a body strictly, keeping every number as its exact text."""
    assert isinstance(body, bytes)

    def reject(name: str) -> Any:
        raise AssertionError(f"non-JSON constant {name}")

    return json.loads(body.decode("utf-8"), parse_int=lambda t: ("n", t), parse_float=lambda t: ("n", t), parse_constant=reject)


def both(roots: list[tuple[Any, ...]], errors: list[str] | None = None) -> tuple[Any, Any]:
    def bind(module: Any) -> list[tuple[Any, ...]]:
        return [root[:2] + (module.compile_plan(root[2]),) + root[3:] if root[0] == "rows" else root for root in roots]

    return parse(pipeline.build_response(bind(pipeline), errors)), parse(reference.build_response(bind(reference), errors))


SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(spec=specs, rows=rows, single=st.booleans(), nullable=st.booleans())
def test_rust_equals_reference_on_valid_rows(spec: Any, rows: list[str | bytes | None], single: bool, nullable: bool) -> None:
    rust, oracle = both([("rows", "items", spec, rows, single, nullable)])
    assert rust == oracle
    assert "errors" not in rust


@SETTINGS
@given(
    spec=specs,
    rows=rows,
    bad=st.tuples(st.integers(0, 4), st.integers(0, 2)),
    nullable=st.booleans(),
    raw=st.tuples(documents, st.just("")).map(lambda d: write(*d)),
)
def test_rust_equals_reference_on_corrupt_rows(
    spec: Any, rows: list[str | bytes | None], bad: tuple[int, int], nullable: bool, raw: str
) -> None:
    position, how = bad
    document = next((row for row in rows if row is not None), '{"id": 1}')
    rows = rows[:position] + [corrupt(document, how)] + rows[position:]
    given_errors = ['{"message": "given", "path": ["other"]}']
    rust, oracle = both([("rows", "items", spec, rows, False, nullable), ("raw", "other", raw)], given_errors)
    assert rust == oracle


@settings(max_examples=60, deadline=None)
@given(
    depth=st.integers(505, 520),
    opener=st.sampled_from(["[", '{"a":']),
    spec=specs,
)
def test_rust_equals_reference_around_the_depth_limit(depth: int, opener: str, spec: Any) -> None:
    closer = "]" if opener == "[" else "}"
    row = opener * depth + "1" + closer * depth
    rust, oracle = both([("rows", "items", (("field", "a", "a", spec),), [row], True, True)])
    assert rust == oracle


@SETTINGS
@given(text=st.text(st.characters(), max_size=30), spec=specs)
def test_arbitrary_text_never_breaks_the_body(text: str, spec: Any) -> None:
    """Any str, lone surrogates included, yields a complete body (maybe an error in it)."""
    rust, oracle = both([("rows", "items", spec, [text, "{" + text], False, True)])
    assert rust == oracle
