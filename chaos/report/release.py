"""A release record: every scenario's report of one version's run, in one committed file.

``reports/releases/<version>.json`` is what a later version is compared against
(``fraiseql-chaos compare reports/releases/0.1.0.json reports/runs/<run>/``). It holds the
reports as ``report.json`` has them, without the per-second timeline (each phase's latency
samples and ``per_second`` counts stay: they are what the comparison's rank tests need).

Example::

    record = make_release(reports_in("reports/runs/ci"), version="0.1.0")
    write_release(record, Path("reports/releases/0.1.0.json"))
    reports = load_release("reports/releases/0.1.0.json")      # list of report dicts
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from chaos.errors import ReportError
from chaos.report.model import SCHEMA_VERSION, check_report, find_reports, load_report

RELEASE_KIND = "fraiseql-chaos-release"
DROPPED = ("timeline",)  # large, and not used by the comparison


def reports_in(path: str | Path) -> list[dict[str, Any]]:
    """Every report under a folder, in a release record, or the one report of a file."""
    path = Path(path)
    if not path.is_file():
        return [load_report(p) for p in find_reports(path)]
    data = _read(path)
    if isinstance(data, dict) and data.get("kind") == RELEASE_KIND:
        return _release_reports(data, path)
    check_report(data, str(path))
    return [data]


def _slim(report: Mapping[str, Any]) -> dict[str, Any]:
    """The report without its timeline, latency samples to 0.1 ms (ample for a rank test)."""
    slim = {k: v for k, v in report.items() if k not in DROPPED}
    slim["phases"] = [{**p, "latency_samples_ms": [round(v, 1) for v in p["latency_samples_ms"]]}
                      for p in report["phases"]]
    return slim


def make_release(reports: Iterable[Mapping[str, Any]], version: str) -> dict[str, Any]:
    slim = [_slim(r) for r in reports]
    slim.sort(key=lambda r: r["scenario"]["name"])
    if not slim:
        raise ReportError("a release record needs at least one report")
    commits = sorted({(r.get("harness") or {}).get("git_commit") or "" for r in slim} - {""})
    return {"kind": RELEASE_KIND, "schema_version": SCHEMA_VERSION, "version": version,
            "created_at": datetime.now(timezone.utc).isoformat(), "git_commits": commits,
            "profile": sorted({r["scenario"].get("profile") or "" for r in slim}),
            "reports": slim}


def write_release(record: Mapping[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # One line per report: small, and a release-to-release diff still shows which changed.
    head = {k: v for k, v in record.items() if k != "reports"}
    lines = [json.dumps(r, sort_keys=True, separators=(",", ":")) for r in record["reports"]]
    text = json.dumps(head, sort_keys=True)[:-1] + ', "reports": [\n' + ",\n".join(lines) + "\n]}\n"
    path.write_text(text, encoding="utf-8")
    return path


def load_release(path: str | Path) -> list[dict[str, Any]]:
    path = Path(path)
    return _release_reports(_read(path), path)


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ReportError(f"{path}: {exc}") from exc


def _release_reports(data: Any, path: Path) -> list[dict[str, Any]]:
    if not isinstance(data, dict) or data.get("kind") != RELEASE_KIND \
            or data.get("schema_version") != SCHEMA_VERSION:
        raise ReportError(f"{path}: not a release record of schema {SCHEMA_VERSION}")
    reports = data.get("reports")
    if not isinstance(reports, list) or not reports:
        raise ReportError(f"{path}: a release record needs a non-empty 'reports' list")
    for index, report in enumerate(reports):
        check_report({**report, "timeline": []}, f"{path}: reports[{index}]")
    return reports
