"""The public surface of ``chaos`` is exactly this list, sorted; changing it is a decision."""

import chaos

EXPECTED = [
    "AgentError", "ChaosError", "EventBus", "FaultError", "ReportError", "RunResult", "Runner",
    "ScenarioError", "StackError", "ToxiproxyError", "compare_paths", "compare_reports",
    "corrupt", "inject", "latency", "load_report", "load_scenario", "load_scenarios",
    "resilience_score", "write_report",
]


def test_all_lists_exactly_the_public_names_sorted() -> None:
    assert chaos.__all__ == sorted(EXPECTED, key=lambda n: (n[0].islower(), n))


def test_every_public_name_resolves() -> None:
    for name in chaos.__all__:
        assert getattr(chaos, name) is not None, name
