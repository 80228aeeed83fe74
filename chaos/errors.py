"""The harness's errors: every one names its cause."""

from __future__ import annotations


class ChaosError(Exception):
    """Root of the harness's errors."""


class ScenarioError(ChaosError):
    """A scenario file is invalid: names the file, the field path and the reason.

    Example::

        ScenarioError("scenarios/x.yaml", "phases[1].faults[0].latency_ms", "must be >= 0")
    """

    def __init__(self, path: str, field: str, reason: str) -> None:
        self.path, self.field, self.reason = str(path), field, reason
        where = f"{self.path}: {field}" if field else self.path
        super().__init__(f"{where}: {reason}")
