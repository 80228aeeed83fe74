"""The .phases/ pages: written from the scenario files, and kept in step with them."""

from __future__ import annotations

from pathlib import Path

from chaos.report.example import make_report
from chaos.report.phases import PLAN, write_phases
from chaos.scenario import load_scenarios

ROOT = Path(__file__).resolve().parents[2]


def test_every_scenario_family_belongs_to_a_phase() -> None:
    families = {family for phase in PLAN for family in phase.families}
    assert {p.parent.name for p in (ROOT / "scenarios").glob("*/*.yaml")} <= families


def test_the_committed_pages_name_every_scenario() -> None:
    """Regression guard: a scenario added without rewriting .phases/ (fraiseql-chaos phases)."""
    pages = "".join(p.read_text() for p in (ROOT / ".phases").glob("*.md"))
    missing = [s.name for s in load_scenarios([ROOT / "scenarios"]) if f"`{s.name}`" not in pages]
    assert not missing, f"not in .phases/: {missing}; run fraiseql-chaos phases <release record>"


def test_pages_show_a_scenario_and_its_result(tmp_path: Path) -> None:
    scenarios = load_scenarios([ROOT / "scenarios" / "network"])
    report = make_report(scenarios[0].name)
    written = write_phases(scenarios, [report], tmp_path, "test.json")
    page = (tmp_path / "1-network.md").read_text()
    assert len(written) == len(PLAN) + 1
    assert f"`{scenarios[0].name}`" in page and f"score {report['score']['value']}" in page
    assert "not in the release record yet" in page  # the others
