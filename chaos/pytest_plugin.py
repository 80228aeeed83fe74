"""pytest plugin (entry point ``pytest11: chaos``): markers, options, fixtures, scenario items.

Only hooks live here; the fixtures come from chaos.pytest_fixtures. Scenario files are
collected as test items only when ``-m`` selects ``chaos``, so plain ``pytest`` never parses
a scenario nor starts a stack.

Example::

    pytest -m chaos --chaos-profile quick --chaos-report-dir reports/runs/ci
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chaos.pytest_fixtures import (  # noqa: F401  (fixtures are registered by import)
    chaos_config,
    chaos_inject,
    chaos_issuer,
    chaos_stack,
    chaos_toxiproxy,
)

FAMILIES = ("network", "database", "cache", "auth", "rbac", "resources", "combined", "observability")
MARKERS = {
    "chaos": "resilience harness tests (real faults against a real stack)",
    **{f"chaos_{family}": f"chaos scenarios of the {family} family" for family in FAMILIES},
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("chaos", "FraiseQL resilience harness")
    group.addoption("--chaos-profile", choices=("quick", "full"), default=None,
                    help="duration profile of scenarios (ini: chaos_profile; default quick)")
    group.addoption("--chaos-report-dir", default=None,
                    help="where scenario reports go (ini: chaos_report_dir; default reports/runs/pytest)")
    group.addoption("--chaos-scenarios", default=None,
                    help="folder of scenario files collected under -m chaos (ini: chaos_scenarios)")
    parser.addini("chaos_profile", "duration profile of scenarios", default="quick")
    parser.addini("chaos_report_dir", "where scenario reports go", default="reports/runs/pytest")
    parser.addini("chaos_scenarios", "folder of scenario files", default="scenarios")


def _selects_chaos(config: pytest.Config) -> bool:
    expression = config.getoption("markexpr", "") or ""
    return "chaos" in expression and expression.strip() != "not chaos"


def _scenario_folder(config: pytest.Config) -> Path:
    folder = Path(config.getoption("chaos_scenarios") or config.getini("chaos_scenarios"))
    return (folder if folder.is_absolute() else config.rootpath / folder).resolve()


def pytest_configure(config: pytest.Config) -> None:
    for name, description in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {description}")
    folder = _scenario_folder(config)
    if _selects_chaos(config) and folder.is_dir():
        # `pytest -m chaos` alone collects the library; an argument that names the folder,
        # a folder above it, or a scenario file or family inside it selects on its own.
        named = [Path(arg.split("::")[0]).resolve() for arg in config.args]
        if not any(path in (folder, *folder.parents) or folder in path.parents for path in named):
            config.args.append(str(folder))


_STACKS_KEY = pytest.StashKey[Any]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Scenarios wanting the same stack run one after the other, so each worker starts few:
    # sorted by stack, and under `--dist loadgroup` each stack's scenarios split into one
    # group per worker (a group runs on one worker, back to back, on one stack).
    scenario_items = [item for item in items if isinstance(item, ScenarioItem)]
    if not scenario_items:
        return
    first = items.index(scenario_items[0])
    others = [item for item in items if not isinstance(item, ScenarioItem)]
    ordered = sorted(scenario_items, key=lambda item: repr(item.stack_key()))
    items[:] = others[:first] + ordered + others[first:]
    try:
        workers = max(1, int(getattr(config.option, "numprocesses", None) or 1))
    except (TypeError, ValueError):  # -n auto / logical
        workers = os.cpu_count() or 1
    by_stack: dict[str, list[ScenarioItem]] = {}
    for item in ordered:
        by_stack.setdefault(repr(item.stack_key()), []).append(item)
    for number, same in enumerate(by_stack.values()):
        size = -(-len(same) // workers)  # ceiling: at most one group per worker
        for index, item in enumerate(same):
            item.add_marker(pytest.mark.xdist_group(f"stack{number}-{index // size}"))


def pytest_sessionfinish(session: pytest.Session) -> None:
    stacks = session.config.stash.get(_STACKS_KEY, None)
    if stacks is not None:
        stacks.close()


def _stacks(config: pytest.Config) -> Any:
    """This session's (this xdist worker's) StackPool, made on first use."""
    if _STACKS_KEY not in config.stash:
        from chaos.stack.pool import StackPool

        config.stash[_STACKS_KEY] = StackPool()
    return config.stash[_STACKS_KEY]


SCENARIO_OVERHEAD_S = 240  # a stack's start, the load's start, rollback, integrity, report


def scenario_timeout_s(scenario: Any) -> int:
    """How long one scenario item may take: its planned phases plus start-up and checks."""
    from chaos.runner.plan import plan_phases

    return int(plan_phases(scenario)[-1].end_s + SCENARIO_OVERHEAD_S)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    # Only the scenario folder: YAML elsewhere (test data, invalid examples) is not a scenario.
    if file_path.suffix in (".yaml", ".yml") and _selects_chaos(parent.config) \
            and _scenario_folder(parent.config) in file_path.resolve().parents:
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    def collect(self) -> list[pytest.Item]:
        from chaos.scenario import load_scenario

        from chaos.pytest_fixtures import config_from

        scenario = load_scenario(self.path, config_from(self.config).profile)
        item = ScenarioItem.from_parent(self, name=scenario.name, scenario=scenario)
        item.add_marker("chaos")
        # The suite's per-test timeout (pytest-timeout) is for tests, not for a scenario
        # whose phases alone can run for minutes in the full profile: its bound is its plan.
        item.add_marker(pytest.mark.timeout(scenario_timeout_s(scenario)))
        for tag in scenario.tags:
            if tag in FAMILIES:
                item.add_marker(f"chaos_{tag}")
        return [item]


@dataclass
class ScenarioFailed(Exception):
    report: dict[str, Any]
    html: Path


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario

    def runtest(self) -> None:
        from chaos.pytest_fixtures import config_from
        from chaos.runner import Runner

        config = config_from(self.config)
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        result = Runner(self.scenario, report_dir=config.report_dir / worker / self.scenario.name,
                        stacks=_stacks(self.config)).run()
        self.user_properties.append(("chaos_report", str(result.paths.html)))
        if result.exit_code != 0:
            raise ScenarioFailed(result.report, result.paths.html)

    def stack_key(self) -> tuple[Any, ...]:
        target = self.scenario.target
        return (target.rows, target.auth, sorted(target.app_env().items()), target.workers,
                target.auth_options.jwks_max_age_s)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ScenarioFailed):
            report = excinfo.value.report
            lines = [f"scenario {self.scenario.name}: {report['outcome']} "
                     f"(exit {report['exit_code']}), report {excinfo.value.html}"]
            if report.get("error"):
                lines.append(f"  error: {report['error']}")
            lines += [f"  [{v['phase']}] {v['expectation']}: {v['message']}"
                      for v in report["verdicts"] if not v["passed"]]
            return "\n".join(lines)
        return str(super().repr_failure(excinfo, style))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"scenario: {self.scenario.name}"
