"""report.json / report.html / summary.md, and the resilience score."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from chaos.report import ReportFormatError, load_report, resilience_score, write_report
from chaos.report.example import make_report


class _Checker(HTMLParser):
    VOID = {"meta", "br", "img", "input", "link", "hr", "line", "polyline"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.add(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        self.tags.add(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}> in {self.stack[-3:]}"
        self.stack.pop()


def test_written_report_round_trips_and_html_is_valid_and_self_contained(tmp_path: Path) -> None:
    paths = write_report(make_report(), tmp_path)
    assert load_report(paths.json)["scenario"]["name"] == "demo"
    html = paths.html.read_text()
    checker = _Checker()
    checker.feed(html)
    assert checker.stack == []
    assert {"svg", "polyline", "rect", "table", "style"} <= checker.tags
    assert not re.search(r"(src|href)\s*=|https?://|<script|@import", html)
    assert "fill-opacity" in html  # the fault window is shaded
    assert "a &lt;test&gt; scenario" in html  # text is escaped
    assert "## demo: PASSED" in paths.markdown.read_text()


def test_report_with_a_wrong_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text(json.dumps({**make_report(), "schema_version": 99}))
    with pytest.raises(ReportFormatError, match="schema_version 99"):
        load_report(path)


def test_report_missing_a_field_names_it(tmp_path: Path) -> None:
    data = make_report()
    del data["phases"][0]["latency_ms"]
    path = tmp_path / "report.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ReportFormatError, match=r"phases\[0\] missing field 'latency_ms'"):
        load_report(path)


def test_score_is_100_when_nothing_degraded() -> None:
    report = make_report(fault_median_ms=10.0)
    report["phases"][1]["latency_ms"]["p99"] = report["phases"][0]["latency_ms"]["p99"]
    assert resilience_score(report)["value"] == 100.0


def test_score_drops_with_errors_lost_writes_and_failed_expectations() -> None:
    good = resilience_score(make_report())["value"]
    bad = make_report(error_share=0.5)
    bad["integrity"]["lost"] = 3
    bad["verdicts"].append({"phase": "latency", "expectation": "x", "passed": False,
                            "message": ""})
    score = resilience_score(bad)
    assert score["components"]["I"] == 0.0
    assert score["components"]["E"] == 0.5
    assert 0 <= score["value"] < good - 20
