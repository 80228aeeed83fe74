"""Type stubs for the private extension module ``fraiseql._fraiseql_rs``."""

from collections.abc import Sequence
from typing import Literal, TypeAlias, final

__version__: str

# --- pipeline ---
SpecEntry: TypeAlias = (
    tuple[Literal["field"], str, str, Sequence[SpecEntry] | None] | tuple[Literal["typename"], str, str]
)
RowsRoot: TypeAlias = tuple[Literal["rows"], str, Plan, Sequence[str | None], bool, bool]
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
