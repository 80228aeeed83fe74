"""Scenario files: loading, every kind of invalid file with its message, profiles, JSON Schema."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from chaos.errors import ScenarioError
from chaos.faults import REGISTRY
from chaos.scenario import load_scenario, load_scenarios, parse_scenario, scenario_json_schema

REPO = Path(__file__).parents[2]
INVALID = REPO / "tests" / "data" / "scenarios" / "invalid"


def _documented_example() -> str:
    """The example of docs/scenarios.md: the documentation must stay a valid scenario."""
    text = (REPO / "docs" / "scenarios.md").read_text(encoding="utf-8")
    return re.search(r"```yaml\n(.*?)```", text, re.S).group(1)  # type: ignore[union-attr]


def test_the_documented_example_loads_with_typed_faults(tmp_path: Path) -> None:
    path = tmp_path / "db-latency.yaml"
    path.write_text(_documented_example(), encoding="utf-8")
    scenario = load_scenario(path)
    assert (scenario.name, scenario.seed, scenario.profile, scenario.path) == ("db-latency", 7, "full", str(path))
    fault = scenario.phases[1].faults[0]
    assert isinstance(fault, REGISTRY["latency"].Params)
    assert (fault.latency_ms, fault.at_s, fault.duration_s, fault.target) == (200, 10, 40, "postgres")
    assert scenario.expectations["slow-database"].max_p99_x_baseline == 20
    assert scenario.load.mix["create_post"] == 2 and scenario.integrity.max_lost == 0
    assert scenario.total_duration_s() == 100


def test_scenarios_are_frozen(tmp_path: Path) -> None:
    scenario = parse_scenario(_documented_example())
    with pytest.raises(ValueError, match="frozen"):
        scenario.seed = 8  # type: ignore[misc]


# file -> fragments its message must contain (besides the file's path)
INVALID_CASES = {
    "yaml_syntax.yaml": [": invalid YAML at line 5, column 4: "],
    "not_a_mapping.yaml": ["a scenario is a mapping of fields, not list"],
    "unknown_top_level_field.yaml": [": users: unknown field"],
    "unknown_fault_field.yaml": [": phases[1].faults[0].bogus: unknown field"],
    "negative_latency.yaml": [": phases[1].faults[0].latency_ms: ", "greater than or equal to 0"],
    "wrong_type.yaml": [": phases[0].duration_s: ", "valid number"],
    "unknown_fault_type.yaml": [": phases[1].faults[0].type: unknown fault type 'earthquake'",
                                "known: ", "latency", "proxy_down", "lock_table"],
    "fault_offset_past_phase_end.yaml": [": phases[1].faults[0].at_s: offset 70 s is past the end of "
                                         "phase 'slow' (60 s)"],
    "fault_ends_past_phase_end.yaml": [": phases[1].faults[0].duration_s: the fault ends at 65 s, "
                                       "past the end of phase 'slow' (60 s)"],
    "duplicate_phase_name.yaml": [": phases[1].name: duplicate phase name 'steady' (also phases[0])"],
    "expectation_for_unknown_phase.yaml": [": expectations.slo: no phase named 'slo' (phases: steady, slow)"],
    "unknown_operation.yaml": [": load.mix.delete_everything: ", "'read_posts'"],
    "me_without_auth.yaml": [": load.mix.me: the 'me' query needs tokens: set target.auth: true"],
    "no_phases.yaml": [": phases: ", "at least 1 item"],
    "missing_name.yaml": [": name: Field required"],
    "zero_profile_factor.yaml": [": profiles.quick: ", "greater than 0"],
    "unknown_config_field.yaml": [": target.config.pool_maximum: not a FraiseQLConfig field",
                                  "pool_max_size"],
    "wrong_config_type.yaml": [": target.config.pool_max_size: expects int, got str 'twenty'"],
}


def test_every_invalid_file_has_a_case() -> None:
    assert sorted(p.name for p in INVALID.glob("*.yaml")) == sorted(INVALID_CASES)


@pytest.mark.parametrize("name", sorted(INVALID_CASES))
def test_an_invalid_file_names_file_field_and_reason(name: str) -> None:
    path = INVALID / name
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: "), message
    for fragment in INVALID_CASES[name]:
        assert fragment in message, message
    assert raised.value.path == str(path) and raised.value.reason in message


def test_a_missing_file_is_a_scenario_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read the file"):
        load_scenario(tmp_path / "absent.yaml")


def test_the_loader_sets_profile_and_path_not_the_file() -> None:
    with pytest.raises(ScenarioError, match="profile: set by the loader"):
        parse_scenario(_documented_example() + "profile: quick\n")


# --- profiles ---------------------------------------------------------------------------

SHORT = """
name: scaled
phases:
  - {name: long, duration_s: 60, faults: [{type: proxy_down, at_s: 20, duration_s: 20}]}
  - {name: medium, duration_s: 12}
  - {name: tiny, duration_s: 3}
"""


def test_quick_scales_phases_and_fault_windows_with_a_minimum() -> None:
    quick = parse_scenario(SHORT, profile="quick")
    assert [p.duration_s for p in quick.phases] == [15, 5, 3]  # 12 * 0.25 -> 5 s minimum; 3 stays 3
    fault = quick.phases[0].faults[0]
    assert (fault.at_s, fault.duration_s) == (5, 5)
    assert quick.profile == "quick"
    assert [p.duration_s for p in parse_scenario(SHORT).phases] == [60, 12, 3]


def test_a_scenario_overrides_and_adds_profiles() -> None:
    text = SHORT + "profiles: {quick: 0.5, soak: 2}\nmin_phase_s: 1\n"
    assert [p.duration_s for p in parse_scenario(text, profile="quick").phases] == [30, 6, 1.5]
    soak = parse_scenario(text, profile="soak")
    assert soak.phases[0].duration_s == 120 and soak.phases[0].faults[0].at_s == 40
    with pytest.raises(ScenarioError, match=r"profile: unknown profile 'nightly' \(known: quick, full, soak\)"):
        parse_scenario(text, profile="nightly")


# --- folders and tags -------------------------------------------------------------------


def test_load_scenarios_walks_folders_and_filters_by_tag(tmp_path: Path) -> None:
    (tmp_path / "network").mkdir()
    (tmp_path / "network" / "a.yaml").write_text(SHORT.replace("scaled", "a") + "tags: [network]\n")
    (tmp_path / "b.yml").write_text(SHORT.replace("scaled", "b") + "tags: [database]\n")
    (tmp_path / "notes.txt").write_text("not a scenario")
    assert sorted(s.name for s in load_scenarios([tmp_path])) == ["a", "b"]
    assert [s.name for s in load_scenarios([tmp_path], tags=["network"])] == ["a"]
    assert [s.profile for s in load_scenarios([tmp_path / "b.yml"], profile="quick")] == ["quick"]


# --- JSON Schema ------------------------------------------------------------------------


def test_the_json_schema_is_valid_and_accepts_the_example() -> None:
    schema = scenario_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    json.dumps(schema)
    validator = jsonschema.Draft202012Validator(schema)
    validator.validate(yaml.safe_load(_documented_example()))
    assert "profile" not in schema["properties"] and "path" not in schema["properties"]
    fault_types = {d["properties"]["type"].get("const") for d in schema["$defs"].values()
                   if "type" in d.get("properties", {})}
    assert {"latency", "proxy_down", "lock_table"} <= fault_types


def test_the_json_schema_refuses_what_the_loader_refuses() -> None:
    validator = jsonschema.Draft202012Validator(scenario_json_schema())
    for name in ("unknown_top_level_field.yaml", "unknown_fault_type.yaml", "negative_latency.yaml"):
        assert not validator.is_valid(yaml.safe_load((INVALID / name).read_text())), name
