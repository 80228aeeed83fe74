"""Run reports: report.json (versioned schema), report.html, summary.md, the resilience score.

Example::

    from chaos.report import load_report, write_report
    write_report(load_report("old/report.json"), Path("copy"))
"""

from chaos.report.model import (
    SCHEMA_VERSION,
    ReportFormatError,
    check_report,
    find_reports,
    load_report,
)
from chaos.report.score import resilience_score
from chaos.report.writer import ReportPaths, render_files, write_report, write_suite_summary

__all__ = [
    "SCHEMA_VERSION",
    "ReportFormatError",
    "ReportPaths",
    "check_report",
    "find_reports",
    "load_report",
    "render_files",
    "resilience_score",
    "write_report",
    "write_suite_summary",
]
