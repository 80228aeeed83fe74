"""``fraiseql-chaos``: run, validate, list, schema, compare, release, phases, report, up.

The CLI parses arguments and calls the library; the library never imports it.
Exit codes: 0 every expectation held (or the command succeeded), 1 an expectation failed or
a regression was found, 2 an invalid file or a stack that could not start.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import click

from chaos.errors import ChaosError, ScenarioError

PROFILES = click.Choice(["quick", "full"])


def _err(message: str) -> None:
    click.echo(message, err=True)


def _load(paths: tuple[str, ...], profile: str, tags: tuple[str, ...] = ()) -> list:
    from chaos.scenario import load_scenario, scenario_paths

    files = scenario_paths(paths or ("scenarios",))
    if not files:
        raise ScenarioError(", ".join(paths) or "scenarios", "", "no scenario files found")
    scenarios = [load_scenario(path, profile) for path in files]
    return [s for s in scenarios if not tags or set(tags) & set(s.tags)]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """The FraiseQL resilience harness: break the stack for real, judge it with evidence."""


@main.command()
@click.argument("paths", nargs=-1)
@click.option("--tag", "tags", multiple=True, help="Only scenarios carrying this tag (repeatable).")
@click.option("--profile", type=PROFILES, default="quick", show_default=True)
@click.option("--report-dir", type=click.Path(path_type=Path), default=None,
              help="Default: reports/runs/<timestamp>/")
@click.option("--backend", type=click.Choice(["local", "compose", "containers"]), default="local",
              show_default=True, envvar="FRAISEQL_CHAOS_BACKEND")
@click.option("--quiet", is_flag=True, help="No live progress.")
def run(paths: tuple[str, ...], tags: tuple[str, ...], profile: str, report_dir: Path | None,
        backend: str, quiet: bool) -> None:
    """Run scenario files (or every file in the folders given; default scenarios/)."""
    from chaos.report import write_suite_summary
    from chaos.stack.pool import StackPool

    try:
        scenarios = _load(paths, profile, tags)
    except ScenarioError as exc:
        _err(f"invalid scenario: {exc}")
        sys.exit(2)
    root = report_dir or Path("reports/runs") / time.strftime("%Y%m%d-%H%M%S")
    stacks = StackPool()  # scenarios with the same target share one running stack
    try:
        worst, reports = _run_all(scenarios, root, backend, quiet, stacks)
    finally:
        stacks.close()
    if len(reports) > 1:
        click.echo(f"suite summary: {write_suite_summary(reports, root)}")
    sys.exit(worst)


def _run_all(scenarios: list, root: Path, backend: str, quiet: bool, stacks: object) -> tuple[int, list]:
    from chaos.events import EventBus
    from chaos.progress import Progress
    from chaos.runner import Runner

    worst, reports = 0, []
    for scenario in scenarios:
        bus = EventBus()
        if not quiet:
            bus.subscribe(Progress(sys.stderr))
        folder = root / scenario.name if len(scenarios) > 1 else root
        result = Runner(scenario, report_dir=folder, bus=bus, backend=backend, stacks=stacks).run()
        reports.append(result.report)
        verdict = result.report["outcome"].upper()
        click.echo(f"{scenario.name}: {verdict} (score {result.report['score']['value']}) "
                   f"{result.paths.html}")
        if result.report.get("error"):
            _err(f"  {result.report['error']}")
        for v in result.report["verdicts"]:
            if not v["passed"]:
                click.echo(f"  failed: [{v['phase']}] {v['expectation']}: {v['message']}")
        worst = max(worst, result.exit_code)
        if result.exit_code > 2:  # interrupted by a signal: stop the suite
            break
    return worst, reports


@main.command()
@click.argument("paths", nargs=-1)
def validate(paths: tuple[str, ...]) -> None:
    """Check scenario files; exit 2 naming the file, the field and the reason."""
    try:
        scenarios = _load(paths, "full")
    except ScenarioError as exc:
        _err(f"invalid scenario: {exc}")
        sys.exit(2)
    for scenario in scenarios:
        click.echo(f"ok  {scenario.path}  ({scenario.name})")


@main.command(name="list")
@click.argument("paths", nargs=-1)
@click.option("--tag", "tags", multiple=True)
def list_(paths: tuple[str, ...], tags: tuple[str, ...]) -> None:
    """List scenarios: name, tags, faults, duration."""
    try:
        scenarios = _load(paths, "full", tags)
    except ScenarioError as exc:
        _err(f"invalid scenario: {exc}")
        sys.exit(2)
    for s in scenarios:
        faults = ",".join(f.type for p in s.phases for f in p.faults) or "-"
        click.echo(f"{s.name:40} {','.join(s.tags) or '-':20} {faults:30} "
                   f"{s.total_duration_s():6.0f}s  {s.path}")


@main.command()
def schema() -> None:
    """Print the JSON Schema of scenario files."""
    from chaos.scenario import scenario_json_schema

    click.echo(json.dumps(scenario_json_schema(), indent=2, sort_keys=True))


@main.command()
@click.argument("old", type=click.Path(exists=True))
@click.argument("new", type=click.Path(exists=True))
@click.option("--html", "html_path", type=click.Path(path_type=Path), default=None,
              help="Also write the comparison as an HTML page.")
@click.option("--latency-ratio", type=float, default=None,
              help="A latency regression needs new/old p50 or p99 at least this (default 1.2).")
@click.option("--error-rate-increase", type=float, default=None,
              help="A phase's error rate may grow by this much, absolute (default 0.02).")
@click.option("--score-drop", type=float, default=None, help="Points the score may lose (default 5).")
@click.option("--recovery-increase-s", type=float, default=None,
              help="Seconds recovery may take longer (default 5).")
@click.option("--latency-quantile", "latency_quantiles", multiple=True, type=click.Choice(["p50", "p99"]),
              help="Which quantile's ratio decides a latency regression (repeatable; default both).")
@click.option("--relative-latency", is_flag=True, default=None,
              help="Compare latencies as multiples of each run's own baseline median "
                   "(for runs on different machines or under different load).")
def compare(old: str, new: str, html_path: Path | None, latency_ratio: float | None,
            error_rate_increase: float | None, score_drop: float | None,
            recovery_increase_s: float | None, latency_quantiles: tuple[str, ...],
            relative_latency: bool | None) -> None:
    """Compare two reports, folders of reports or release records; exit 1 on a regression."""
    import dataclasses

    from chaos.compare import Thresholds, compare_paths, render_html, render_table

    given = {"latency_ratio": latency_ratio, "error_rate_increase": error_rate_increase,
             "score_drop": score_drop, "recovery_increase_s": recovery_increase_s,
             "relative_latency": relative_latency, "latency_quantiles": latency_quantiles or None}
    thresholds = dataclasses.replace(Thresholds(), **{k: v for k, v in given.items() if v is not None})
    try:
        result = compare_paths(old, new, thresholds)
    except ChaosError as exc:
        _err(str(exc))
        sys.exit(2)
    click.echo(render_table(result), nl=False)
    if html_path:
        html_path.write_text(render_html(result), encoding="utf-8")
        click.echo(f"html: {html_path}")
    sys.exit(1 if result.regressed else 0)


@main.command()
@click.argument("report_dir", type=click.Path(exists=True, path_type=Path))
@click.option("--version", "version", default=None, help="Default: the installed fraiseql version.")
@click.option("--output", type=click.Path(path_type=Path), default=None,
              help="Default: reports/releases/<version>.json")
def release(report_dir: Path, version: str | None, output: Path | None) -> None:
    """Bundle every report under REPORT_DIR into a release record."""
    from importlib import metadata

    from chaos.report.release import make_release, reports_in, write_release

    version = version or metadata.version("fraiseql")
    try:
        record = make_release(reports_in(report_dir), version)
    except ChaosError as exc:
        _err(str(exc))
        sys.exit(2)
    path = write_release(record, output or Path("reports/releases") / f"{version}.json")
    failed = [r["scenario"]["name"] for r in record["reports"] if r["exit_code"] != 0]
    click.echo(f"{path}: {len(record['reports'])} scenarios of version {version}"
               + (f"; not passed: {', '.join(failed)}" if failed else ""))


@main.command()
@click.argument("record", type=click.Path(exists=True, path_type=Path))
@click.option("--scenarios", "scenario_dir", default="scenarios", show_default=True)
@click.option("--output", type=click.Path(path_type=Path), default=Path(".phases"), show_default=True)
def phases(record: Path, scenario_dir: str, output: Path) -> None:
    """Rewrite the .phases/ pages from the scenario files and a release record (or run folder)."""
    from chaos.report.phases import write_phases
    from chaos.report.release import reports_in

    try:
        scenarios = _load((scenario_dir,), "quick")
        reports = reports_in(record)
    except ChaosError as exc:
        _err(str(exc))
        sys.exit(2)
    for path in write_phases(scenarios, reports, output, record.name):
        click.echo(str(path))


@main.command()
@click.argument("report_json", type=click.Path(exists=True, path_type=Path))
def report(report_json: Path) -> None:
    """Re-render report.html and summary.md from a report.json."""
    from chaos.report import load_report, render_files

    try:
        data = load_report(report_json)
    except ChaosError as exc:
        _err(str(exc))
        sys.exit(2)
    paths = render_files(data, report_json.parent)
    click.echo(f"{paths.html}\n{paths.markdown}")


@main.command()
@click.option("--rows", default=200, show_default=True)
@click.option("--auth/--no-auth", default=True, show_default=True)
def up(rows: int, auth: bool) -> None:
    """Start the stack and wait until Ctrl-C, printing its URLs."""
    from chaos.stack.stack import Stack, StackOptions

    async def serve() -> None:
        async with Stack(StackOptions(rows=rows, auth=auth)) as stack:
            click.echo(f"app:       {stack.app_url}/graphql")
            click.echo(f"database:  {stack.admin_db_url}")
            click.echo(f"proxied:   {stack.db_url}")
            if stack.toxiproxy is not None:
                click.echo(f"toxiproxy: {stack.toxiproxy.url}")
            if stack.issuer is not None:
                click.echo(f"jwks:      {stack.issuer.jwks_url}")
            click.echo("Ctrl-C to stop", err=True)
            while True:  # until Ctrl-C cancels the task
                await asyncio.sleep(3600)

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass
    except ChaosError as exc:
        _err(f"stack could not start: {exc}")
        sys.exit(2)
