"""The runner: executes a scenario against the stack and writes its report.

Example::

    result = Runner(scenario, report_dir=Path("reports/runs/now")).run()
"""

from chaos.runner.plan import PlannedFault, PlannedPhase, plan_phases
from chaos.runner.run import Runner, RunResult

__all__ = ["PlannedFault", "PlannedPhase", "RunResult", "Runner", "plan_phases"]
