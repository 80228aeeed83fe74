"""Write a run's report.json, report.html and summary.md into a folder.

Example::

    paths = write_report(report, Path("reports/runs/20250101-120000/network-latency"))
    paths.html  # .../report.html
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chaos.report.html import render_html
from chaos.report.markdown import render_markdown, render_suite_markdown
from chaos.report.model import check_report


@dataclass(frozen=True)
class ReportPaths:
    json: Path
    html: Path
    markdown: Path


def render_files(report: Mapping[str, Any], folder: Path) -> ReportPaths:
    """(Re-)render report.html and summary.md from a report dict; report.json is left as is."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = ReportPaths(folder / "report.json", folder / "report.html", folder / "summary.md")
    paths.html.write_text(render_html(report), encoding="utf-8")
    paths.markdown.write_text(render_markdown(report), encoding="utf-8")
    return paths


def write_report(report: Mapping[str, Any], folder: Path) -> ReportPaths:
    """Check the report against the schema, then write all three files."""
    check_report(report, str(folder / "report.json"))
    folder.mkdir(parents=True, exist_ok=True)
    # Written through a temporary name so a killed run never leaves half a report.json.
    tmp = folder / "report.json.tmp"
    tmp.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(folder / "report.json")
    return render_files(report, folder)


def write_suite_summary(reports: Sequence[Mapping[str, Any]], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "summary.md"
    path.write_text(render_suite_markdown(reports), encoding="utf-8")
    return path
