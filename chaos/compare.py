"""Compare two runs (or two folders of runs): per scenario and phase, did anything regress?

Latency distributions are judged with a one-sided Mann-Whitney U test on the per-phase
samples stored in report.json (new slower than old at p < `p_value`) *and* a practical
threshold (the new median or p99 at least `latency_ratio` times the old), so a tiny but
statistically significant shift on a big sample is not called a regression. With
`relative_latency` the samples are first divided by their own run's baseline median, so
two runs on machines (or moments) of different speed compare what the release changed. An error
rate regresses when it grew by more than `error_rate_increase` *and* the share is higher not
by chance: a one-sided Mann-Whitney U test on the phase's per-second error shares (new higher
at p < `p_value`). The second is the unit, not the request, because errors under a fault come
in runs: a breaker that stays open a second longer answers thirty requests at once, and a
per-request test (Fisher's exact, used for reports without per-second counts) takes such a
run for thirty independent failures. Recovery time, integrity counts and the score have
thresholds of their own.

Example::

    result = compare_paths("reports/releases/0.1.0.json", "reports/runs/latest/")   # or two folders
    print(render_table(result)); sys.exit(1 if result.regressed else 0)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from scipy.stats import fisher_exact, mannwhitneyu

from chaos.report.release import reports_in
from chaos.report.stats import percentile

MIN_SAMPLES = 8  # below this a rank test says nothing useful


@dataclass(frozen=True)
class Thresholds:
    p_value: float = 0.01
    latency_ratio: float = 1.2
    error_rate_increase: float = 0.02  # absolute, 0..1
    recovery_increase_s: float = 5.0
    score_drop: float = 5.0
    relative_latency: bool = False  # compare latencies as multiples of each run's baseline median
    latency_quantiles: tuple[str, ...] = ("p50", "p99")  # which must move by latency_ratio


@dataclass(frozen=True)
class Finding:
    scenario: str
    phase: str  # "-" for findings about the whole run
    metric: str
    old: float | None
    new: float | None
    regressed: bool
    detail: str


@dataclass
class Comparison:
    findings: list[Finding] = field(default_factory=list)
    only_old: list[str] = field(default_factory=list)
    only_new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # same name, another definition: not compared

    @property
    def regressed(self) -> bool:
        return any(f.regressed for f in self.findings)


def _latency(name: str, old: Mapping[str, Any], new: Mapping[str, Any], t: Thresholds,
             scenario: str, scales: tuple[float, float] | None = None) -> Finding:
    """A latency regression: the new distribution stochastically greater (one-sided
    Mann-Whitney U) *and* its median or p99 at least ``latency_ratio`` times the old.

    With ``scales`` (each run's baseline median), latencies are compared relative to their
    own run's baseline: a fault phase that got slower *for the same machine*, which is what
    a release changes; a busier or slower machine moves both runs' baselines alike.
    """
    a, b = list(old["latency_samples_ms"]), list(new["latency_samples_ms"])
    old_p99, new_p99 = old["latency_ms"]["p99"], new["latency_ms"]["p99"]
    if len(a) < MIN_SAMPLES or len(b) < MIN_SAMPLES:
        return Finding(scenario, name, "latency", old_p99, new_p99, False,
                       f"too few samples ({len(a)} vs {len(b)})")
    unit = "ms"
    if scales is not None:
        a, b = [v / scales[0] for v in a], [v / scales[1] for v in b]
        unit = "x baseline median"
    p = float(mannwhitneyu(b, a, alternative="greater").pvalue)
    a_sorted, b_sorted = sorted(a), sorted(b)
    pairs = tuple((percentile(a_sorted, q), percentile(b_sorted, q)) for q in (50, 99))
    judged = [pair for pair, q in zip(pairs, ("p50", "p99")) if q in t.latency_quantiles]
    ratio = max((n / o for o, n in judged if o and n), default=1.0)
    regressed = p < t.p_value and ratio >= t.latency_ratio
    return Finding(scenario, name, f"latency p99 ({unit})", round(pairs[1][0], 3),
                   round(pairs[1][1], 3), regressed, f"Mann-Whitney p={p:.2g}, x{ratio:.2f}")


def _second_shares(phase: Mapping[str, Any]) -> list[float]:
    """The error share of each second of the phase that saw a request."""
    return [errors / requests for requests, errors in phase.get("per_second") or () if requests]


def _error_rate(name: str, old: Mapping[str, Any], new: Mapping[str, Any], t: Thresholds,
                scenario: str) -> Finding:
    """More errors: the share grew by more than ``error_rate_increase`` and not by chance.

    Chance is judged second by second (one-sided Mann-Whitney U on the per-second error
    shares, new greater, p < ``p_value``) when both phases have at least ``MIN_SAMPLES``
    seconds with requests; otherwise, as for reports without ``per_second`` counts, on the
    request counts (one-sided Fisher exact test), which trusts every request to fail on its own.
    """
    delta = new["error_rate"] - old["error_rate"]
    detail = f"{delta * 100:+.2f} points"
    regressed = False
    if delta > t.error_rate_increase:
        a, b = _second_shares(old), _second_shares(new)
        if len(a) >= MIN_SAMPLES and len(b) >= MIN_SAMPLES:
            p = float(mannwhitneyu(b, a, alternative="greater").pvalue)
            detail += f", per-second Mann-Whitney p={p:.2g} ({len(a)} vs {len(b)} s)"
        else:
            table = [[new["errors"], new["requests"] - new["errors"]],
                     [old["errors"], old["requests"] - old["errors"]]]
            p = float(fisher_exact(table, alternative="greater").pvalue)
            detail += f", Fisher p={p:.2g}"
        regressed = p < t.p_value  # False for a NaN p (every second alike on both sides)
    return Finding(scenario, name, "error rate", old["error_rate"], new["error_rate"], regressed, detail)


def _phase(name: str, old: Mapping[str, Any], new: Mapping[str, Any], t: Thresholds,
           scenario: str, scales: tuple[float, float] | None = None) -> list[Finding]:
    return [_latency(name, old, new, t, scenario, scales), _error_rate(name, old, new, t, scenario)]


def compare_reports(old: Mapping[str, Any], new: Mapping[str, Any],
                    thresholds: Thresholds = Thresholds()) -> list[Finding]:
    """Findings for one scenario run against another."""
    scenario = new["scenario"]["name"]
    t = thresholds
    old_phases = {p["name"]: p for p in old["phases"]}
    scales = _baseline_medians(old, new) if t.relative_latency else None
    findings = []
    for phase in new["phases"]:
        if phase["name"] in old_phases and phase["kind"] != "warmup":
            if scales is not None and phase["kind"] == "baseline":
                continue  # the yardstick itself: relative to itself it is always 1
            findings += _phase(phase["name"], old_phases[phase["name"]], phase, t, scenario, scales)
    old_rec, new_rec = old["recovery"].get("time_s"), new["recovery"].get("time_s")
    if old_rec is not None or new_rec is not None:
        worse = new_rec is None or (old_rec is not None and new_rec - old_rec > t.recovery_increase_s)
        findings.append(Finding(scenario, "-", "recovery s", old_rec, new_rec, worse,
                                "never recovered" if new_rec is None else ""))
    for key in ("lost", "duplicated"):
        o, n = (old.get("integrity") or {}).get(key), (new.get("integrity") or {}).get(key)
        if o is not None or n is not None:
            findings.append(Finding(scenario, "-", f"{key} writes", o, n, (n or 0) > (o or 0), ""))
    o, n = old["score"]["value"], new["score"]["value"]
    findings.append(Finding(scenario, "-", "score", o, n, o - n > t.score_drop, f"{n - o:+.1f}"))
    return findings


def _baseline_medians(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[float, float] | None:
    medians = []
    for report in (old, new):
        baseline = next((p for p in report["phases"] if p["kind"] == "baseline"), None)
        median = baseline and baseline["latency_ms"].get("p50")
        if not median:
            return None
        medians.append(float(median))
    return medians[0], medians[1]


def _by_scenario(path: str | Path) -> dict[str, dict[str, Any]]:
    return {r["scenario"]["name"]: r for r in reports_in(path)}


def compare_paths(old: str | Path, new: str | Path,
                  thresholds: Thresholds = Thresholds()) -> Comparison:
    """Compare two report files, or every scenario found in two folders."""
    olds, news = _by_scenario(old), _by_scenario(new)
    result = Comparison(only_old=sorted(olds.keys() - news.keys()),
                        only_new=sorted(news.keys() - olds.keys()))
    if len(olds) == 1 and len(news) == 1 and not olds.keys() & news.keys():
        # two single reports are compared even when the scenario was renamed
        result.only_old, result.only_new = [], []
        result.findings = compare_reports(next(iter(olds.values())), next(iter(news.values())),
                                          thresholds)
        return result
    for name in sorted(olds.keys() & news.keys()):
        old_digest = olds[name]["scenario"].get("digest")
        new_digest = news[name]["scenario"].get("digest")
        if old_digest and new_digest and old_digest != new_digest:
            result.changed.append(name)  # its file changed since: another experiment
            continue
        result.findings += compare_reports(olds[name], news[name], thresholds)
    return result


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.4g}"


def render_table(result: Comparison) -> str:
    rows = [("scenario", "phase", "metric", "old", "new", "verdict", "detail")]
    rows += [(f.scenario, f.phase, f.metric, _fmt(f.old), _fmt(f.new),
              "REGRESSION" if f.regressed else "ok", f.detail) for f in result.findings]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    lines += [f"only in old: {name}" for name in result.only_old]
    lines += [f"only in new: {name}" for name in result.only_new]
    lines += [f"not compared, its definition changed (record the release again): {name}"
              for name in result.changed]
    lines.append("regression" if result.regressed else "no regression")
    return "\n".join(lines) + "\n"


def render_html(result: Comparison) -> str:
    """A self-contained page with the comparison table."""
    body = "".join(
        f'<tr class="{"bad" if f.regressed else ""}"><td>{escape(f.scenario)}</td>'
        f"<td>{escape(f.phase)}</td><td>{escape(f.metric)}</td><td>{_fmt(f.old)}</td>"
        f"<td>{_fmt(f.new)}</td><td>{'REGRESSION' if f.regressed else 'ok'}</td>"
        f"<td>{escape(f.detail)}</td></tr>"
        for f in result.findings
    )
    verdict = "Regression" if result.regressed else "No regression"
    changed = "".join(f"<p>Not compared, its definition changed: {escape(name)}</p>"
                      for name in result.changed)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>chaos compare: {verdict}</title><style>"
        "body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}"
        "td,th{border:1px solid #d0d7de;padding:.25rem .5rem}tr.bad{background:#ffebe9}"
        f"</style></head><body><h1>{verdict}</h1><table><thead><tr><th>scenario</th>"
        "<th>phase</th><th>metric</th><th>old</th><th>new</th><th>verdict</th><th>detail</th>"
        f"</tr></thead><tbody>{body}</tbody></table>{changed}</body></html>\n"
    )
