"""The FraiseQL resilience harness: real faults against a real stack, judged with evidence.

Example::

    import chaos
    scenario = chaos.load_scenario("scenarios/network/latency.yaml", profile="quick")
    result = chaos.Runner(scenario, report_dir="reports/runs/now").run()
    print(result.exit_code, result.paths.html)

    @chaos.inject("db.execute", error="serialization_failure", rate=0.3, seed=7)
    async def test_retries(): ...
"""

import importlib
from typing import Any

# Resolved on first use: importing chaos.pytest_plugin (loaded by every pytest run through
# its entry point) must not import scipy, pydantic models or the fault registry.
_HOME = {
    "AgentError": "chaos.errors", "ChaosError": "chaos.errors", "FaultError": "chaos.errors",
    "ReportError": "chaos.errors", "ScenarioError": "chaos.errors", "StackError": "chaos.errors",
    "ToxiproxyError": "chaos.errors", "EventBus": "chaos.events", "RunResult": "chaos.runner",
    "Runner": "chaos.runner", "compare_paths": "chaos.compare", "compare_reports": "chaos.compare",
    "corrupt": "chaos.inject", "inject": "chaos.inject", "latency": "chaos.inject",
    "load_report": "chaos.report", "resilience_score": "chaos.report",
    "write_report": "chaos.report", "load_scenario": "chaos.scenario",
    "load_scenarios": "chaos.scenario",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'chaos' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOME[name]), name)
    globals()[name] = value
    return value


__all__ = [
    "AgentError",
    "ChaosError",
    "EventBus",
    "FaultError",
    "ReportError",
    "RunResult",
    "Runner",
    "ScenarioError",
    "StackError",
    "ToxiproxyError",
    "compare_paths",
    "compare_reports",
    "corrupt",
    "inject",
    "latency",
    "load_report",
    "load_scenario",
    "load_scenarios",
    "resilience_score",
    "write_report",
]
