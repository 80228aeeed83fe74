"""The run's timeline: harness phases around the scenario's, scaled by the profile."""

from __future__ import annotations

from chaos.runner.plan import BASELINE_MIN_S, RECOVERY_MARGIN_S, STEADY_MIN_S, plan_phases
from chaos.scenario import parse_scenario

TWO_PHASES = """
name: planned
min_phase_s: 10
phases:
  - {name: first, duration_s: 40, faults: [{type: proxy_down, duration_s: 20}]}
  - {name: second, duration_s: 40, faults: [{type: proxy_down, at_s: 10}]}
expectations:
  first: {recovery_within_s: 12}
"""


def test_harness_phases_surround_the_scenarios_in_order() -> None:
    plan = plan_phases(parse_scenario(TWO_PHASES, profile="full"))
    assert [(p.name, p.kind) for p in plan] == [
        ("warmup", "warmup"), ("baseline", "baseline"), ("first", "fault"),
        ("second", "fault"), ("recovery", "recovery"), ("steady", "steady")]
    assert all(a.end_s == b.start_s for a, b in zip(plan, plan[1:]))


def test_fault_windows_are_offsets_into_their_phase() -> None:
    plan = {p.name: p for p in plan_phases(parse_scenario(TWO_PHASES, profile="full"))}
    (first,), (second,) = plan["first"].faults, plan["second"].faults
    assert (first.at_s, first.end_s) == (plan["first"].start_s, plan["first"].start_s + 20)
    assert (second.at_s, second.end_s) == (plan["second"].start_s + 10, plan["second"].end_s)


def test_quick_profile_keeps_harness_floors_not_the_scenarios_floor() -> None:
    plan = {p.name: p for p in plan_phases(parse_scenario(TWO_PHASES, profile="quick"))}
    assert plan["baseline"].duration_s == BASELINE_MIN_S  # 20 s * 0.25 = 5 s, floor 6 s
    assert plan["steady"].duration_s == STEADY_MIN_S
    assert plan["first"].duration_s == 10  # the scenario's min_phase_s applies to its phases
    assert plan["recovery"].duration_s == 12 + RECOVERY_MARGIN_S  # long enough for recovery_within_s


def test_a_scenario_that_names_its_own_baseline_gets_no_second_one() -> None:
    text = TWO_PHASES.replace("  - {name: first", "  - {name: baseline, duration_s: 30}\n  - {name: first")
    kinds = [p.kind for p in plan_phases(parse_scenario(text, profile="full"))]
    assert kinds.count("baseline") == 1 and kinds[1] == "baseline"
