"""Release records: bundling reports, reading them back, comparing a run with one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chaos.compare import compare_paths
from chaos.errors import ReportError
from chaos.report import write_report
from chaos.report.example import make_report as example_report
from chaos.report.release import load_release, make_release, reports_in, write_release


def test_a_release_holds_every_report_without_timelines(tmp_path: Path) -> None:
    reports = [example_report("b-scenario"), example_report("a-scenario")]
    path = write_release(make_release(reports, "9.9.9"), tmp_path / "9.9.9.json")
    loaded = load_release(path)
    assert [r["scenario"]["name"] for r in loaded] == ["a-scenario", "b-scenario"]
    assert all("timeline" not in r for r in loaded)
    assert all(len(p["per_second"]) == 10 for r in loaded for p in r["phases"])  # for compare
    assert json.loads(path.read_text())["version"] == "9.9.9"


def test_a_run_compared_with_its_own_release_has_no_regression(tmp_path: Path) -> None:
    report = example_report("same")
    release = write_release(make_release([report], "1.0.0"), tmp_path / "1.0.0.json")
    write_report(report, tmp_path / "run" / "same")
    result = compare_paths(release, tmp_path / "run")
    assert result.findings and not result.regressed


def test_reports_in_reads_folders_files_and_releases(tmp_path: Path) -> None:
    write_report(example_report("one"), tmp_path / "runs" / "one")
    write_report(example_report("two"), tmp_path / "runs" / "two")
    assert len(reports_in(tmp_path / "runs")) == 2
    assert len(reports_in(tmp_path / "runs" / "one" / "report.json")) == 1


def test_a_broken_release_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"kind": "fraiseql-chaos-release", "schema_version": 1, "reports": []}))
    with pytest.raises(ReportError, match="bad.json: a release record needs a non-empty"):
        load_release(path)
    with pytest.raises(ReportError, match="at least one report"):
        make_release([], "1.0.0")
