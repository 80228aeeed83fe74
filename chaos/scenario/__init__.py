"""Scenario files: YAML validated by pydantic, scaled by profiles, with a JSON Schema.

Example::

    from chaos.scenario import load_scenario
    scenario = load_scenario("scenarios/network/latency.yaml", profile="quick")
    scenario.phases[0].faults[0].type   # "latency"
"""

from chaos.scenario.loading import load_scenario, load_scenarios, parse_scenario, scenario_model, scenario_paths
from chaos.scenario.models import (
    DEFAULT_PROFILES,
    OPERATIONS,
    Expectation,
    IntegrityLimits,
    LoadSpec,
    Phase,
    Scenario,
    SteadyState,
    Target,
)
from chaos.scenario.schema import scenario_json_schema

__all__ = [
    "DEFAULT_PROFILES",
    "OPERATIONS",
    "Expectation",
    "IntegrityLimits",
    "LoadSpec",
    "Phase",
    "Scenario",
    "SteadyState",
    "Target",
    "load_scenario",
    "load_scenarios",
    "parse_scenario",
    "scenario_json_schema",
    "scenario_model",
    "scenario_paths",
]
