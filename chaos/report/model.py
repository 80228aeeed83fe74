"""report.json: its schema version, required fields, and loading.

The report is plain JSON data so any tool can read it; this module pins its shape.
Version history: 1 = first release (see docs/reports.md for every field).

Example::

    report = load_report("reports/runs/20250101-120000/network-latency/report.json")
    report["outcome"]  # "passed" | "failed" | "error"
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from chaos.errors import ReportError

SCHEMA_VERSION = 1
REQUIRED_FIELDS = (
    "schema_version", "scenario", "harness", "environment", "started_at", "duration_s",
    "phases", "timeline", "faults", "recovery", "integrity", "verdicts", "score",
    "exit_code", "outcome",
)
PHASE_FIELDS = (
    "name", "kind", "start_s", "end_s", "requests", "errors", "error_rate",
    "errors_by_code", "latency_ms", "latency_samples_ms",
)
OUTCOMES = {0: "passed", 1: "failed", 2: "error"}


ReportFormatError = ReportError  # the name this module has always used


def check_report(data: Mapping[str, Any], source: str = "<report>") -> None:
    """Raise ReportFormatError naming the source and the missing or unsupported field."""
    if not isinstance(data, Mapping):
        raise ReportFormatError(f"{source}: not a JSON object")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ReportFormatError(
            f"{source}: schema_version {version!r} is not supported (expected {SCHEMA_VERSION})"
        )
    for name in REQUIRED_FIELDS:
        if name not in data:
            raise ReportFormatError(f"{source}: missing field {name!r}")
    for index, phase in enumerate(data["phases"]):
        for name in PHASE_FIELDS:
            if name not in phase:
                raise ReportFormatError(f"{source}: phases[{index}] missing field {name!r}")


def load_report(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ReportFormatError(f"{path}: {exc}") from exc
    check_report(data, str(path))
    return data


def find_reports(path: str | Path) -> list[Path]:
    """A report file itself, or every report.json under a folder, sorted."""
    path = Path(path)
    if path.is_file():
        return [path]
    return sorted(path.rglob("report.json"))
