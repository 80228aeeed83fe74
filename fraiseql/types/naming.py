"""Names: Python's snake_case on one side, GraphQL's camelCase on the other.

One function per direction, used everywhere a name crosses the boundary, so the
document key (snake_case, as PostgreSQL's ``to_jsonb`` writes it) and the GraphQL
field name (camelCase) are always derived the same way.

Example::

    to_camel_case("published_at")  # "publishedAt"
    to_snake_case("CreatePost")     # "create_post"
"""

from __future__ import annotations

import re

# A run of capitals followed by a capital+lowercase ("HTTPServer" -> "HTTP" | "Server"),
# or a lowercase/digit followed by a capital ("createPost" -> "create" | "Post").
_WORD_BOUNDARY = re.compile(r"(?<=[A-Z])(?=[A-Z][a-z])|(?<=[a-z0-9])(?=[A-Z])")


def to_camel_case(name: str) -> str:
    """``published_at`` -> ``publishedAt``; ``id`` -> ``id``; ``user_ID`` -> ``userID``.

    The first word is kept as written and later words get a capital first letter; the
    rest of each word is untouched, so acronyms the author wrote in capitals survive.
    Leading underscores are kept (``_private`` stays ``_private``).
    """
    stripped = name.lstrip("_")
    prefix = name[: len(name) - len(stripped)]
    first, *rest = stripped.split("_")
    return prefix + first + "".join(word[:1].upper() + word[1:] for word in rest if word)


def to_snake_case(name: str) -> str:
    """``CreatePost`` -> ``create_post``; ``HTTPRequest`` -> ``http_request``."""
    return _WORD_BOUNDARY.sub("_", name).lower()


def to_lower_camel(name: str) -> str:
    """A class name as a field name: ``CreatePost`` -> ``createPost``, ``HTTPLog`` -> ``httpLog``."""
    return to_camel_case(to_snake_case(name))
