"""compare: a shifted latency distribution is a regression, an equal one is not."""

from __future__ import annotations

import json
from pathlib import Path

from chaos.compare import compare_paths, compare_reports, render_html, render_table
from chaos.report.example import make_report


def test_same_distribution_is_not_a_regression() -> None:
    findings = compare_reports(make_report(seed=1), make_report(seed=3))
    assert not any(f.regressed for f in findings), findings


def test_shifted_latency_is_a_regression() -> None:
    findings = compare_reports(make_report(fault_median_ms=50), make_report(fault_median_ms=120))
    latency = [f for f in findings if f.phase == "latency" and f.metric.startswith("latency")]
    assert latency[0].regressed and "Mann-Whitney" in latency[0].detail


def test_more_errors_is_a_regression() -> None:
    findings = compare_reports(make_report(), make_report(error_share=0.2))
    assert "error rate" in [f.metric for f in findings if f.regressed]


def _with_errors(report: dict, phase_name: str, errors: int, requests: int) -> dict:
    """The phase with these counts and no per-second counts (as in reports before them)."""
    phases = [{**p, "errors": errors, "requests": requests, "error_rate": errors / requests,
               "per_second": None} if p["name"] == phase_name else p for p in report["phases"]]
    return {**report, "phases": phases}


def _with_seconds(report: dict, phase_name: str, seconds: list[list[int]]) -> dict:
    requests, errors = sum(n for n, _ in seconds), sum(e for _, e in seconds)
    phases = [{**p, "errors": errors, "requests": requests, "error_rate": errors / requests,
               "per_second": seconds} if p["name"] == phase_name else p for p in report["phases"]]
    return {**report, "phases": phases}


def _error_finding(old: dict, new: dict, thresholds: object = None) -> object:
    from chaos.compare import Thresholds

    found = compare_reports(old, new, thresholds or Thresholds(error_rate_increase=0.15))
    return next(f for f in found if f.metric == "error rate" and f.phase == "latency")


def test_errors_that_come_in_one_burst_are_judged_by_the_second() -> None:
    # Measured in resources-pool-exhaustion: the same code, once with the breaker open for
    # two more seconds after the lock went (60 fast 503s at the full request rate). Request
    # by request that is +35 points at Fisher p~1e-14; second by second it is one run.
    trickle = [[4, 3]] * 14 + [[30, 0]] * 4
    old = _with_seconds(make_report(), "latency", [[30, 0], [14, 7]] + trickle)
    new = _with_seconds(make_report(), "latency", [[30, 0], [14, 7]] + trickle[:14] + [[30, 30], [37, 37], [30, 8], [30, 0]])
    finding = _error_finding(old, new)
    assert new["phases"][1]["error_rate"] - old["phases"][1]["error_rate"] > 0.15
    assert not finding.regressed and "per-second Mann-Whitney" in finding.detail, finding


def test_errors_spread_over_the_phase_are_a_regression_by_the_second() -> None:
    old = _with_seconds(make_report(), "latency", [[30, 1]] * 6 + [[30, 0]] * 6)
    new = _with_seconds(make_report(), "latency", [[30, 8]] * 6 + [[30, 7]] * 6)
    finding = _error_finding(old, new)
    assert finding.regressed and "(12 vs 12 s)" in finding.detail, finding


def test_a_bigger_error_share_must_also_be_more_than_chance() -> None:
    from chaos.compare import Thresholds

    t = Thresholds(error_rate_increase=0.1)
    base = make_report()
    small_old, small_new = _with_errors(base, "latency", 2, 20), _with_errors(base, "latency", 5, 20)
    finding = next(f for f in compare_reports(small_old, small_new, t) if f.metric == "error rate" and f.phase == "latency")
    assert not finding.regressed and "Fisher p=" in finding.detail  # +15 points of 20 requests
    big_old, big_new = _with_errors(base, "latency", 20, 164), _with_errors(base, "latency", 60, 181)
    finding = next(f for f in compare_reports(big_old, big_new, t) if f.metric == "error rate" and f.phase == "latency")
    assert finding.regressed  # +21 points of ~170 requests: not chance


def test_folders_are_matched_by_scenario_and_rendered(tmp_path: Path) -> None:
    for side, median in (("old", 50), ("new", 150)):
        for name in ("a", "b"):
            folder = tmp_path / side / name
            folder.mkdir(parents=True)
            report = make_report(name, fault_median_ms=median if name == "b" else 50)
            (folder / "report.json").write_text(json.dumps(report))
    result = compare_paths(tmp_path / "old", tmp_path / "new")
    assert result.regressed
    assert {f.scenario for f in result.findings if f.regressed} == {"b"}
    assert "REGRESSION" in render_table(result)
    assert "<table>" in render_html(result) and "http" not in render_html(result)


def _scaled(report: dict, factor: float) -> dict:
    """The same run on a machine ``factor`` times slower: every latency multiplied."""
    phases = []
    for phase in report["phases"]:
        latency = {k: (v * factor if isinstance(v, (int, float)) else v) for k, v in phase["latency_ms"].items()}
        phases.append({**phase, "latency_ms": latency,
                       "latency_samples_ms": [v * factor for v in phase["latency_samples_ms"]]})
    return {**report, "phases": phases}


def test_a_slower_machine_is_a_regression_in_ms_but_not_relative_to_its_baseline() -> None:
    from chaos.compare import Thresholds

    old = make_report(seed=1)
    new = _scaled(make_report(seed=3), 4.0)
    assert any(f.regressed and f.metric.startswith("latency") for f in compare_reports(old, new))
    relative = compare_reports(old, new, Thresholds(relative_latency=True))
    assert not any(f.regressed and f.metric.startswith("latency") for f in relative)


def test_the_judged_quantiles_can_be_narrowed_to_the_median() -> None:
    from chaos.compare import Thresholds

    old, new = make_report(fault_median_ms=50), make_report(fault_median_ms=120)
    strict = Thresholds(latency_ratio=2.0)
    assert any(f.regressed for f in compare_reports(old, new, strict) if f.phase == "latency")
    loose = Thresholds(latency_ratio=5.0, latency_quantiles=("p50",))
    assert not any(f.regressed for f in compare_reports(old, new, loose) if f.phase == "latency")


def test_a_scenario_whose_definition_changed_is_listed_not_compared(tmp_path: Path) -> None:
    for side, median, digest in (("old", 50, "aaaa"), ("new", 500, "bbbb")):
        for name in ("changed", "same"):
            folder = tmp_path / side / name
            folder.mkdir(parents=True)
            report = make_report(name, fault_median_ms=median)
            report["scenario"]["digest"] = digest if name == "changed" else "cccc"
            (folder / "report.json").write_text(json.dumps(report))
    result = compare_paths(tmp_path / "old", tmp_path / "new")
    assert result.changed == ["changed"]
    assert {f.scenario for f in result.findings} == {"same"}  # still judged: a regression
    assert result.regressed
    assert "definition changed (record the release again): changed" in render_table(result)


def test_the_digest_follows_what_a_scenario_asks_not_its_prose() -> None:
    from chaos.runner.assemble import scenario_digest
    from chaos.scenario.loading import load_scenario

    root = Path(__file__).resolve().parents[2]
    scenario = load_scenario(root / "scenarios" / "network" / "latency.yaml", "quick")
    reworded = scenario.model_copy(update={"description": "other words"})
    louder = scenario.model_copy(update={"seed": scenario.seed + 1})
    assert scenario_digest(reworded) == scenario_digest(scenario) != scenario_digest(louder)
    assert scenario_digest(scenario) != scenario_digest(load_scenario(
        root / "scenarios" / "network" / "latency.yaml", "full"))
