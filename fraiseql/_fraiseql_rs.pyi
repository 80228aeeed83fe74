"""Type stubs for the private extension module ``fraiseql._fraiseql_rs``."""

from collections.abc import Sequence
from typing import Literal, TypeAlias, final

__version__: str

# --- pipeline ---
SpecEntry: TypeAlias = (
    tuple[Literal["field"], str, str, Sequence[SpecEntry] | None] | tuple[Literal["typename"], str, str]
)
RowsRoot: TypeAlias = tuple[Literal["rows"], str, Plan, Sequence[str | bytes | None], bool, bool]
RawRoot: TypeAlias = tuple[Literal["raw"], str, str]

class PipelineInputError(ValueError):
    """A malformed plan spec or roots argument; ``code`` is one of INVALID_PLAN,
    INVALID_ROOTS, INVALID_RAW_JSON, INVALID_ERROR_JSON."""

    code: str

@final
class Plan:
    """A compiled selection plan: opaque, immutable, shareable across threads."""

def compile_plan(spec: Sequence[SpecEntry]) -> Plan: ...
def build_response(roots: Sequence[RowsRoot | RawRoot], errors: Sequence[str] | None = None) -> bytes: ...

# --- end pipeline ---

# --- auth ---
from collections.abc import Callable as _Callable
from typing import Any as _Any

class JwtError(ValueError):
    """A refused token. ``args`` is ``(code, message, kid or None)``; ``code`` is one of
    TOKEN_EXPIRED, TOKEN_NOT_YET_VALID, INVALID_SIGNATURE, INVALID_ISSUER,
    INVALID_AUDIENCE, INVALID_CLAIMS, UNKNOWN_KEY, MALFORMED_TOKEN, UNSUPPORTED_ALGORITHM,
    UNSUPPORTED_CRITICAL_HEADER, TOKEN_TOO_LARGE."""

    args: tuple[str, str, str | None]

@final
class JwtVerifier:
    """One issuer's key set and user-context cache (SHA-256 of the token, bounded LRU,
    never past ``exp``). Thread-safe; the GIL is released while a token is verified."""

    def __init__(
        self,
        issuer: str,
        audiences: Sequence[str],
        algorithms: Sequence[str],
        *,
        leeway_s: float = 30.0,
        max_token_bytes: int = 8192,
        cache_max_entries: int = 10_000,
        cache_ttl_s: float = 300.0,
        hmac_secret: bytes | None = None,
        user_factory: _Callable[[dict[str, _Any]], _Any] | None = None,
        max_keys: int = 64,
    ) -> None: ...
    def validate(self, token: str) -> _Any: ...
    def verify(self, token: str) -> dict[str, _Any]: ...
    def set_keys(self, jwks: bytes) -> tuple[list[str], list[str]]: ...
    def clear_keys(self) -> None: ...
    def forget_keys(self) -> None: ...
    @property
    def kids(self) -> list[str]: ...
    @property
    def clock_offset_s(self) -> float: ...
    def set_clock_offset(self, seconds: float) -> None: ...
    def cache_clear(self) -> None: ...
    def cache_stats(self) -> dict[str, int]: ...

# --- end auth ---
