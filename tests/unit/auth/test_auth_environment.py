"""provider_from_environment: every FRAISEQL_AUTH_* knob parsed, bad values named."""

from __future__ import annotations

import pytest

from fraiseql.auth import environment
from fraiseql.auth.environment import SECONDS, provider_from_environment

BASE = {"FRAISEQL_AUTH_ISSUER": "https://issuer.fraiseql.test/", "FRAISEQL_AUTH_AUDIENCE": "https://api.test"}

BAD_VALUES = {
    "FRAISEQL_AUTH_JWKS_TTL_S": ["0", "-1", "soon", "nan", "inf", "1e999"],
    "FRAISEQL_AUTH_JWKS_MIN_TTL_S": ["0", "-5", "a minute"],
    "FRAISEQL_AUTH_JWKS_MAX_STALE_S": ["-0.5", "a day", "nan"],
    "FRAISEQL_AUTH_KID_COOLDOWN_S": ["-1", "30s", "inf"],
    "FRAISEQL_AUTH_LEEWAY_S": ["-1", "301", "1e3", "x"],
    "FRAISEQL_AUTH_USER_CACHE_TTL_S": ["-1", "five", "-inf"],
}
CASES = [(name, value) for name, values in BAD_VALUES.items() for value in values]


def test_every_knob_is_documented_in_the_module_table() -> None:
    for name in SECONDS:
        assert f"``{name}``" in (environment.__doc__ or ""), name


@pytest.mark.parametrize(("name", "value"), CASES, ids=[f"{n}={v}" for n, v in CASES])
def test_a_bad_value_is_a_value_error_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name) as caught:
        provider_from_environment({**BASE, name: value})
    assert repr(value) in str(caught.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FRAISEQL_AUTH_JWKS_TTL_S", "0.5"),
        ("FRAISEQL_AUTH_JWKS_MIN_TTL_S", "0.1"),
        ("FRAISEQL_AUTH_JWKS_MAX_STALE_S", "0"),
        ("FRAISEQL_AUTH_KID_COOLDOWN_S", "0"),
        ("FRAISEQL_AUTH_LEEWAY_S", "0"),
        ("FRAISEQL_AUTH_LEEWAY_S", "300"),
        ("FRAISEQL_AUTH_USER_CACHE_TTL_S", "0"),
        ("FRAISEQL_AUTH_USER_CACHE_TTL_S", " 12.5 "),
    ],
)
async def test_values_at_the_edges_of_the_range_are_accepted(name: str, value: str) -> None:
    provider = provider_from_environment({**BASE, name: value})
    assert provider is not None
    await provider.close()


def test_without_an_issuer_no_knob_is_even_read() -> None:
    assert provider_from_environment({"FRAISEQL_AUTH_LEEWAY_S": "not a number"}) is None
