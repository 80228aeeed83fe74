"""The harness's errors: every one names its cause.

    ChaosError                      root; exit_code 1 unless a subclass says otherwise
    ├── ScenarioError               a scenario file is invalid (exit 2): path, field, reason
    ├── StackError                  the stack could not start or a component died (exit 2)
    ├── FaultError                  a fault could not be applied or reverted
    │   ├── ToxiproxyError          Toxiproxy's API refused a request or was unreachable
    │   └── AgentError              the app's chaos agent refused a request or was unreachable
    └── ReportError                 a report file cannot be read (wrong schema, missing field)

Example::

    try:
        load_scenario("scenarios/broken.yaml")
    except ScenarioError as error:
        print(error.path, error.field, error.reason); sys.exit(error.exit_code)
"""

from __future__ import annotations


class ChaosError(Exception):
    """Root of the harness's errors."""

    exit_code = 1


class ScenarioError(ChaosError):
    """A scenario file is invalid: names the file, the field path and the reason.

    Example::

        ScenarioError("scenarios/x.yaml", "phases[1].faults[0].latency_ms", "must be >= 0")
    """

    exit_code = 2

    def __init__(self, path: str, field: str, reason: str) -> None:
        self.path, self.field, self.reason = str(path), field, reason
        where = f"{self.path}: {field}" if field else self.path
        super().__init__(f"{where}: {reason}")


class StackError(ChaosError):
    """The stack could not start or a component failed (exit 2)."""

    exit_code = 2


class FaultError(ChaosError):
    """A fault could not be applied or reverted."""


class ToxiproxyError(FaultError):
    """Toxiproxy's API refused a request or could not be reached."""


class AgentError(FaultError):
    """The app's chaos agent refused a request or could not be reached."""


class ReportError(ChaosError, ValueError):
    """A report file is not one this harness can read."""
