"""fraiseql-chaos as a real process: validate, schema, list, compare, report exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from chaos.report import write_report
from chaos.report.example import make_report

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from chaos.cli import main; main()", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_validate_accepts_the_shipped_scenarios() -> None:
    result = cli("validate", "scenarios")
    assert result.returncode == 0, result.stderr
    assert "network-latency" in result.stdout and "auth-forged-token-flood" in result.stdout


def test_validate_names_file_field_and_reason(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: broken\nphases:\n  - name: p\n    duration_s: -5\n")
    result = cli("validate", str(broken))
    assert result.returncode == 2
    assert f"{broken}: phases[0].duration_s:" in result.stderr
    assert "greater than 0" in result.stderr


def test_validate_of_an_unknown_fault_type_lists_the_known_ones(tmp_path: Path) -> None:
    broken = tmp_path / "typo.yaml"
    broken.write_text("name: typo\nphases:\n  - name: p\n    duration_s: 5\n"
                      "    faults: [{type: latncy, target: postgres}]\n")
    result = cli("validate", str(broken))
    assert result.returncode == 2
    assert "phases[0].faults[0].type" in result.stderr and "latency" in result.stderr


def test_schema_prints_json_schema() -> None:
    result = cli("schema")
    assert result.returncode == 0
    assert "phases" in json.loads(result.stdout)["properties"]


def test_list_shows_each_family() -> None:
    result = cli("list", "scenarios")
    assert result.returncode == 0
    for family in ("network", "database", "cache", "auth", "resources"):
        assert family in result.stdout


def test_compare_exits_1_on_regression_and_0_without(tmp_path: Path) -> None:
    write_report(make_report(fault_median_ms=50), tmp_path / "old")
    write_report(make_report(fault_median_ms=50, seed=5), tmp_path / "same")
    write_report(make_report(fault_median_ms=200), tmp_path / "slow")
    assert cli("compare", str(tmp_path / "old"), str(tmp_path / "same")).returncode == 0
    slow = cli("compare", str(tmp_path / "old"), str(tmp_path / "slow"), "--html",
               str(tmp_path / "cmp.html"))
    assert slow.returncode == 1 and "REGRESSION" in slow.stdout
    assert (tmp_path / "cmp.html").read_text().startswith("<!DOCTYPE html>")


def test_report_re_renders_html_and_markdown(tmp_path: Path) -> None:
    paths = write_report(make_report(), tmp_path)
    paths.html.unlink()
    result = cli("report", str(paths.json))
    assert result.returncode == 0 and paths.html.exists()
