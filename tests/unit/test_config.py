"""FraiseQLConfig.from_environment: every field from FRAISEQL_<NAME>, typed, with clear errors."""

from __future__ import annotations

import typing
from dataclasses import fields

import pytest

from fraiseql.config import FraiseQLConfig

HINTS = typing.get_type_hints(FraiseQLConfig)


def _sample(name: str) -> tuple[str, object]:
    kind = HINTS[name]
    if kind is bool:
        default = getattr(FraiseQLConfig(), name)
        return ("false", False) if default else ("true", True)
    if kind is int:
        return "7", 7
    return "0.25", 0.25


@pytest.mark.parametrize("name", [f.name for f in fields(FraiseQLConfig)])
def test_every_field_can_be_set_from_the_environment(name: str) -> None:
    text, expected = _sample(name)
    env = {f"FRAISEQL_{name.upper()}": text}
    if name == "pool_min_size":
        env["FRAISEQL_POOL_MAX_SIZE"] = "9"
    config = FraiseQLConfig.from_environment(env)
    assert getattr(config, name) == expected
    assert type(getattr(config, name)) is HINTS[name]


@pytest.mark.parametrize(("text", "expected"), [
    ("true", True), ("TRUE", True), ("1", True), ("false", False), ("False", False), ("0", False),
])
def test_booleans_are_true_false_one_or_zero(text: str, expected: bool) -> None:
    assert FraiseQLConfig.from_environment({"FRAISEQL_BREAKER_ENABLED": text}).breaker_enabled is expected


INVALID = [
    ("FRAISEQL_BREAKER_ENABLED", "yes", "must be true, false, 1 or 0"),
    ("FRAISEQL_MAX_IN_FLIGHT", "lots", "must be an integer"),
    ("FRAISEQL_MAX_IN_FLIGHT", "2.5", "must be an integer"),
    ("FRAISEQL_REQUEST_TIMEOUT_S", "soon", "must be a number"),
    ("FRAISEQL_REQUEST_TIMEOUT_S", "inf", "must be a finite number"),
    ("FRAISEQL_CACHE_MAX_STALE_S", "-1", "must not be negative"),
    ("FRAISEQL_BREAKER_FAILURE_THRESHOLD", "0", "at least 1"),
]


@pytest.mark.parametrize(("variable", "text", "reason"), INVALID)
def test_a_bad_value_is_a_value_error_naming_the_variable_and_why(variable: str, text: str, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        FraiseQLConfig.from_environment({variable: text})
    assert variable in str(caught.value) and reason in str(caught.value)


def test_overrides_win_over_the_environment_and_unknown_names_are_refused() -> None:
    env = {"FRAISEQL_MAX_IN_FLIGHT": "10", "FRAISEQL_SHUTDOWN_DRAIN_S": "3"}
    config = FraiseQLConfig.from_environment(env, max_in_flight=20)
    assert (config.max_in_flight, config.shutdown_drain_s) == (20, 3.0)
    with pytest.raises(TypeError, match="max_inflight"):
        FraiseQLConfig.from_environment({}, max_inflight=1)


def test_other_fraiseql_variables_and_an_empty_environment_leave_the_defaults() -> None:
    env = {"FRAISEQL_AUTH_ISSUER": "https://issuer", "FRAISEQL_CHAOS_AGENT_TOKEN": "t"}
    assert FraiseQLConfig.from_environment(env) == FraiseQLConfig()


def test_stale_reads_are_off_when_switched_off_or_zero() -> None:
    assert FraiseQLConfig().stale_window_s == 300.0
    assert FraiseQLConfig(cache_stale_reads=False).stale_window_s == 0.0
    assert FraiseQLConfig(cache_max_stale_s=0).stale_window_s == 0.0
