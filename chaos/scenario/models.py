"""The scenario file's shape: frozen pydantic models, unknown fields refused.

The fault type ``F`` is left open here: :mod:`chaos.scenario.faults` builds the
discriminated union of every registered fault's ``Params`` at load time, and the loader
validates against ``Scenario[union]``. Cross-field rules (phase names, fault offsets,
expectations naming phases) live in :mod:`chaos.scenario.checks` so they can name the
field they are about.

Example::

    Scenario[FaultUnion].model_validate({"name": "db-latency", "phases": [...]})
"""

from __future__ import annotations

from typing import Annotated, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

Operation = Literal[
    "read_posts", "read_post", "read_connection", "create_post", "update_post", "add_comment", "me"
]
OPERATIONS: tuple[str, ...] = Operation.__args__  # type: ignore[attr-defined]

DEFAULT_PROFILES: dict[str, float] = {"quick": 0.25, "full": 1.0}

F = TypeVar("F")

Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=80)]
Rate = Annotated[float, Field(ge=0, le=1)]
Millis = Annotated[float, Field(gt=0)]
Ratio = Annotated[float, Field(gt=0)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


ConfigValue = bool | int | float | str


class AuthOptions(_Frozen):
    """How the app's JWT provider caches keys and users (``FRAISEQL_AUTH_*``); unset: its defaults."""

    jwks_ttl_s: Annotated[float, Field(gt=0)] | None = None
    jwks_min_ttl_s: Annotated[float, Field(gt=0)] | None = None
    jwks_max_stale_s: Annotated[float, Field(ge=0)] | None = None
    kid_cooldown_s: Annotated[float, Field(ge=0)] | None = None
    leeway_s: Annotated[float, Field(ge=0)] | None = None
    user_cache_ttl_s: Annotated[float, Field(ge=0)] | None = None
    jwks_max_age_s: Annotated[int, Field(ge=0)] = Field(
        3600, description="Cache-Control max-age the local issuer sends with its JWKS")

    def app_env(self) -> dict[str, str]:
        """The app's environment variables for the options that are set."""
        names = {"jwks_ttl_s": "JWKS_TTL_S", "jwks_min_ttl_s": "JWKS_MIN_TTL_S",
                 "jwks_max_stale_s": "JWKS_MAX_STALE_S", "kid_cooldown_s": "KID_COOLDOWN_S",
                 "leeway_s": "LEEWAY_S", "user_cache_ttl_s": "USER_CACHE_TTL_S"}
        return {f"FRAISEQL_AUTH_{env}": f"{getattr(self, field):g}"
                for field, env in names.items() if getattr(self, field) is not None}


class Target(_Frozen):
    """The application under test, the size of its data, and how it is configured."""

    app: str = Field("examples.blog.app:app", pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$",
                     description="ASGI application as 'module:attr'")
    rows: int = Field(1000, ge=1, le=10_000_000, description="posts seeded in the database")
    auth: bool = Field(True, description="the app verifies bearer tokens from the local issuer")
    auth_options: AuthOptions = Field(default_factory=AuthOptions)
    workers: int = Field(1, ge=1, le=8, description="app worker processes (uvicorn --workers)")
    config: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], ConfigValue] = Field(
        default_factory=dict,
        description="FraiseQLConfig fields for the app (passed as FRAISEQL_<FIELD>)")

    def app_env(self) -> dict[str, str]:
        """What the app's process gets on top of the stack's own environment."""
        env = {f"FRAISEQL_{name.upper()}": _env_value(value) for name, value in self.config.items()}
        return env | (self.auth_options.app_env() if self.auth else {})


def _env_value(value: ConfigValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)


class LoadSpec(_Frozen):
    """The traffic sent during every phase (locust, headless)."""

    users: int = Field(4, ge=1, le=1000)
    rate_per_s: float = Field(10.0, gt=0, le=10_000, description="total requests per second")
    mix: dict[Operation, Annotated[float, Field(ge=0)]] = Field(
        default_factory=lambda: {"read_posts": 5.0, "read_post": 3.0, "create_post": 1.0},
        description="operation -> relative weight",
    )
    authenticated_share: Rate = Field(0.0, description="share of requests sent with a bearer token")
    retry_share: Rate = Field(
        0.5, description="chance that a write with an unknown outcome is retried with the same key"
    )
    distinct_tokens: int = Field(
        0, ge=0, le=20_000,
        description="tokens minted for the load (0: one per user); many distinct tokens miss the "
                    "app's user-context cache, so every request verifies a signature")
    timeout_s: float = Field(10.0, gt=0, le=600, description="the client's timeout per request")

    @model_validator(mode="after")
    def _some_weight(self) -> LoadSpec:
        if not any(weight > 0 for weight in self.mix.values()):
            raise ValueError("load.mix needs at least one operation with a positive weight")
        return self


class Phase(_Frozen, Generic[F]):
    """A stretch of time under load, with faults applied at offsets into it."""

    name: Name
    duration_s: float = Field(gt=0, le=86_400)
    faults: list[F] = Field(default_factory=list)


class SteadyState(_Frozen):
    """What "healthy" means; checked before the first phase and after recovery."""

    max_error_rate: Rate = 0.01
    max_p99_ms: Millis = 2000.0  # generous: a CI machine runs several stacks on few cores


class Expectation(_Frozen):
    """What must hold during one phase; unset limits are not judged.

    ``*_x_baseline`` bounds a percentile at K times the baseline's; ``expect_effect``
    (default true) means the phase's faults must have an observable effect, so a harmless
    fault is reported instead of passing silently.
    """

    max_error_rate: Rate | None = None
    max_p50_ms: Millis | None = None
    max_p95_ms: Millis | None = None
    max_p99_ms: Millis | None = None
    max_p50_x_baseline: Ratio | None = None
    max_p95_x_baseline: Ratio | None = None
    max_p99_x_baseline: Ratio | None = None
    max_request_ms: Millis | None = None
    no_5xx_without_graphql_body: bool = True
    recovery_within_s: Annotated[float, Field(ge=0)] | None = None
    expect_effect: bool = True
    min_span_coverage: Rate | None = Field(
        None, description="graphql.request spans the app finished / requests the load sent")
    min_metric_coverage: Rate | None = Field(
        None, description="fraiseql.request.duration records / requests the load sent")


class IntegrityLimits(_Frozen):
    """How many acknowledged writes may be lost or duplicated (zero, normally)."""

    max_lost: int = Field(0, ge=0)
    max_duplicated: int = Field(0, ge=0)


class Scenario(_Frozen, Generic[F]):
    """One scenario file, validated; durations already scaled by ``profile``."""

    name: Name
    description: str = ""
    tags: list[Name] = Field(default_factory=list)
    seed: int = 0
    target: Target = Field(default_factory=Target)
    load: LoadSpec = Field(default_factory=LoadSpec)
    phases: list[Phase[F]] = Field(min_length=1)
    steady_state: SteadyState = Field(default_factory=SteadyState)
    expectations: dict[str, Expectation] = Field(
        default_factory=dict, description="phase name -> what must hold during it"
    )
    integrity: IntegrityLimits = Field(default_factory=IntegrityLimits)
    profiles: dict[Name, Annotated[float, Field(gt=0, le=10)]] = Field(
        default_factory=dict, description="profile -> duration factor (defaults: quick 0.25, full 1)"
    )
    min_phase_s: float = Field(5.0, gt=0, description="a scaled phase is never shorter than this")
    profile: str = Field("full", description="set by the loader: the profile applied")
    path: str | None = Field(None, description="set by the loader: the file read")

    def profile_factors(self) -> dict[str, float]:
        """The built-in profiles overridden by the scenario's own."""
        return {**DEFAULT_PROFILES, **self.profiles}

    def total_duration_s(self) -> float:
        """The phases' total length (warm-up, baseline and recovery not included)."""
        return sum(phase.duration_s for phase in self.phases)
