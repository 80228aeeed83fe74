"""The pytest plugin, driven with pytester: markers, options, collection only under -m chaos."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

pytest_plugins = ["pytester"]

SCENARIO = """\
name: tiny
tags: [network]
phases:
  - name: p
    duration_s: 5
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    # Once the package is installed the pytest11 entry point loads the plugin by itself.
    installed = any(e.name == "chaos" for e in entry_points(group="pytest11"))
    load = "" if installed else "-p chaos.pytest_plugin "
    pytester.makeini(f"[pytest]\naddopts = {load}--strict-markers\nasyncio_default_fixture_loop_scope = function\n")
    (pytester.path / "scenarios" / "network").mkdir(parents=True)
    (pytester.path / "scenarios" / "network" / "tiny.yaml").write_text(SCENARIO)
    pytester.makepyfile(test_plain="""
        import pytest

        @pytest.mark.chaos_network
        def test_marked(chaos_config):
            assert chaos_config.profile in ("quick", "full")

        def test_plain():
            pass
    """)
    return pytester


def test_markers_are_registered(project: pytest.Pytester) -> None:
    result = project.runpytest("--markers")
    for name in ("chaos:", "chaos_network:", "chaos_database:", "chaos_cache:", "chaos_auth:",
                 "chaos_resources:"):
        result.stdout.fnmatch_lines([f"@pytest.mark.{name}*"])


def test_plain_pytest_collects_no_scenario(project: pytest.Pytester) -> None:
    result = project.runpytest("--collect-only", "-q")
    assert "tiny" not in result.stdout.str()
    result.assert_outcomes()  # collect-only: nothing ran
    assert "2 tests collected" in result.stdout.str()


def test_minus_m_chaos_collects_scenarios_with_family_markers(project: pytest.Pytester) -> None:
    result = project.runpytest("--collect-only", "-q", "-m", "chaos_network or chaos")
    out = result.stdout.str()
    assert "tiny.yaml::tiny" in out
    assert "test_marked" in out and "test_plain.py::test_plain" not in out


def test_a_scenario_file_named_on_the_command_line_runs_alone(project: pytest.Pytester) -> None:
    (project.path / "scenarios" / "network" / "other.yaml").write_text(SCENARIO.replace("tiny", "other"))
    result = project.runpytest_subprocess("--collect-only", "-q", "-m", "chaos", "scenarios/network/tiny.yaml")
    out = result.stdout.str()
    assert "tiny.yaml::tiny" in out and "other" not in out
    every = project.runpytest_subprocess("--collect-only", "-q", "-m", "chaos").stdout.str()
    assert "tiny.yaml::tiny" in every and "other.yaml::other" in every


def test_options_and_ini_keys_reach_the_frozen_config(project: pytest.Pytester) -> None:
    project.makepyfile(test_cfg="""
        import dataclasses, pytest
        def test_cfg(chaos_config):
            assert chaos_config.profile == "full"
            assert chaos_config.report_dir.name == "out"
            with pytest.raises(dataclasses.FrozenInstanceError):
                chaos_config.profile = "quick"
    """)
    result = project.runpytest("test_cfg.py", "--chaos-profile", "full", "--chaos-report-dir", "out")
    result.assert_outcomes(passed=1)


def test_plugin_works_under_xdist(project: pytest.Pytester) -> None:
    result = project.runpytest("-n", "2", "-p", "xdist", "test_plain.py")
    result.assert_outcomes(passed=2)
