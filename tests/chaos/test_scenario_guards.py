"""Scenarios that can fail: each runs with the runtime behaviour it guards switched off, and
must then fail on the expectation that behaviour keeps.

A scenario that still passes with its safeguard removed checks nothing. These runs use the
same files as the library (quick profile) and change only the app's configuration, through
the switches every resilience behaviour has (``FRAISEQL_<FIELD>``, ``FRAISEQL_AUTH_*``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from chaos.runner import Runner
from chaos.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(420)]


@dataclass(frozen=True)
class Guard:
    scenario: str  # under scenarios/
    behaviour: str  # what is switched off, in words
    config: dict[str, Any] = field(default_factory=dict)  # FraiseQLConfig fields
    auth: dict[str, Any] = field(default_factory=dict)  # target.auth_options fields
    fails: str = "max_error_rate"  # the expectation (or check) that must then fail
    phase: str | None = None  # the phase it fails in (default: any)


GUARDS = [
    Guard("database/connection-lost.yaml", "read retries", {"read_retry_attempts": 0}),
    Guard("network/blackhole.yaml", "the client-side statement deadline and the request deadline",
          {"statement_grace_ms": 0, "request_timeout_s": 0}, fails="max_request_ms", phase="postgres"),
    Guard("database/serialization-failures.yaml", "mutation retries on 40001",
          {"mutation_retry_attempts": 0}),
    Guard("database/deadlocks.yaml", "mutation retries on 40P01", {"mutation_retry_attempts": 0}),
    Guard("database/lock-posts.yaml", "the statement timeout and the request deadline",
          {"statement_timeout_ms": 0, "request_timeout_s": 0, "statement_grace_ms": 0},
          fails="max_request_ms"),
    Guard("resources/pool-exhaustion.yaml", "the pool wait timeout",
          {"pool_timeout_s": 30.0, "request_timeout_s": 0}, fails="max_request_ms"),
    Guard("auth/jwks-down-cached-keys.yaml", "stale-if-error JWKS keys", auth={"jwks_max_stale_s": 0}),
    Guard("auth/jwks-500.yaml", "stale-if-error JWKS keys", auth={"jwks_max_stale_s": 0}),
    Guard("auth/unknown-kid-storm.yaml", "the unknown-kid refetch cooldown",
          auth={"kid_cooldown_s": 0}, fails="fault token_flood: JWKS fetches bounded"),
    Guard("combined/db-down-cache-serves.yaml", "stale reads from the result cache",
          {"cache_stale_reads": False}),
    Guard("combined/auth-down-cached-tokens.yaml", "the user-context cache",
          auth={"user_cache_ttl_s": 0}),
    Guard("resources/concurrent-1000.yaml", "load shedding above the in-flight limit",
          {"max_in_flight": 0}, fails="fault concurrent_requests: load shed"),
    Guard("cache/stampede.yaml", "coalescing identical requests in flight",
          {"cache_coalesce": False}, fails="fault hot_key_stampede: database fetches per wave"),
]


def without(guard: Guard) -> Any:
    """The guard's scenario, quick profile, with its behaviour switched off."""
    scenario = load_scenario(ROOT / "scenarios" / guard.scenario, "quick")
    target = scenario.target
    auth = target.auth_options.model_copy(update=guard.auth)
    target = target.model_copy(update={"config": {**target.config, **guard.config}, "auth_options": auth})
    return scenario.model_copy(update={"target": target, "name": f"{scenario.name}-without-guard"})


@pytest.mark.parametrize("guard", GUARDS, ids=[f"{g.scenario}:{g.behaviour}" for g in GUARDS])
def test_the_scenario_fails_without_the_behaviour_it_guards(guard: Guard, tmp_path: Path) -> None:
    result = asyncio.run(Runner(without(guard), report_dir=tmp_path / "report").arun())
    failed = [v for v in result.report["verdicts"] if not v["passed"]]
    assert result.exit_code == 1, (
        f"{guard.scenario} passed with {guard.behaviour} switched off: it does not guard it "
        f"({result.report.get('error')})")
    matching = [v for v in failed if v["expectation"] == guard.fails
                and (guard.phase is None or v["phase"] == guard.phase)]
    assert matching, f"failed, but not on {guard.fails}: " + "; ".join(
        f"[{v['phase']}] {v['expectation']}: {v['message']}" for v in failed)
