"""Verdicts: each expectation of each phase, the steady state, fault evidence, integrity.

A fault phase whose latency distribution is not shifted (two-sided Mann-Whitney U at
p < 0.01 against the baseline), whose slow tail did not grow (Fisher's exact test on the
share of requests above the baseline's p95, p < 0.01: a fault that slows only cache misses
moves the tail, not the median) and whose error rate is unchanged (Fisher's exact test at
p < 0.01) gets the verdict "fault had no observable effect" when ``expect_effect`` holds:
a harmless fault is a failure, never a silent pass.

Example::

    verdicts = judge_phase(phase, summary, baseline, expectation, effect, recovery_s)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from scipy.stats import fisher_exact, mannwhitneyu

from chaos.report.stats import is_error

EFFECT_P_VALUE = 0.01
MIN_EFFECT_SAMPLES = 8


def verdict(phase: str, expectation: str, passed: bool, message: str) -> dict[str, Any]:
    return {"phase": phase, "expectation": expectation, "passed": bool(passed), "message": message}


def observable_effect(window: Sequence[Mapping[str, Any]],
                      baseline: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Whether requests during the fault windows differ from the baseline's, with p-values."""
    lat_a = [r["latency_ms"] for r in window if r.get("latency_ms") is not None]
    lat_b = [r["latency_ms"] for r in baseline if r.get("latency_ms") is not None]
    if min(len(lat_a), len(lat_b)) < MIN_EFFECT_SAMPLES:
        return {"judged": False, "shifted": False, "latency_p": None, "errors_p": None,
                "reason": f"too few requests ({len(lat_a)} under fault, {len(lat_b)} baseline)"}
    latency_p = float(mannwhitneyu(lat_a, lat_b, alternative="two-sided").pvalue)
    err_a = sum(1 for r in window if is_error(r))
    err_b = sum(1 for r in baseline if is_error(r))
    errors_p = float(fisher_exact([[err_a, len(window) - err_a],
                                   [err_b, len(baseline) - err_b]]).pvalue)
    p95 = sorted(lat_b)[max(0, int(len(lat_b) * 0.95) - 1)]
    slow_a, slow_b = sum(1 for v in lat_a if v > p95), sum(1 for v in lat_b if v > p95)
    tail_p = float(fisher_exact([[slow_a, len(lat_a) - slow_a], [slow_b, len(lat_b) - slow_b]],
                                alternative="greater").pvalue)
    shifted = min(latency_p, tail_p, errors_p) < EFFECT_P_VALUE
    return {"judged": True, "shifted": shifted, "latency_p": latency_p, "tail_p": tail_p,
            "errors_p": errors_p, "reason": ""}


def _limit(phase: str, name: str, observed: float | None, limit: float, unit: str) -> dict:
    if observed is None:
        return verdict(phase, name, False, f"no measurement (limit {limit:g}{unit})")
    return verdict(phase, name, observed <= limit, f"{observed:.4g}{unit} (limit {limit:g}{unit})")


def judge_phase(phase: str, summary: Mapping[str, Any], baseline: Mapping[str, Any] | None,
                expectation: Any, effect: Mapping[str, Any] | None,
                recovery_s: float | None, has_faults: bool) -> list[dict[str, Any]]:
    """Every limit the phase's Expectation sets, judged on the phase's summary."""
    e, lat = expectation, summary["latency_ms"]
    out = []
    if e.max_error_rate is not None:
        out.append(_limit(phase, "max_error_rate", summary["error_rate"], e.max_error_rate, ""))
    for q in ("p50", "p95", "p99"):
        limit = getattr(e, f"max_{q}_ms")
        if limit is not None:
            out.append(_limit(phase, f"max_{q}_ms", lat[q], limit, " ms"))
        factor = getattr(e, f"max_{q}_x_baseline")
        if factor is not None:
            base = baseline and baseline["latency_ms"][q]
            if not base:
                out.append(verdict(phase, f"max_{q}_x_baseline", False, "no baseline latency"))
            else:
                out.append(_limit(phase, f"max_{q}_x_baseline", lat[q], factor * base, " ms"))
    if e.max_request_ms is not None:
        out.append(_limit(phase, "max_request_ms", summary["max_request_ms"], e.max_request_ms,
                          " ms"))
    if e.no_5xx_without_graphql_body:
        bare = summary["status_5xx_without_graphql_error"]
        out.append(verdict(phase, "no_5xx_without_graphql_body", bare == 0,
                           f"{bare} responses with status >= 500 and no GraphQL error"))
    if e.recovery_within_s is not None:
        out.append(verdict(
            phase, "recovery_within_s",
            recovery_s is not None and recovery_s <= e.recovery_within_s,
            "never recovered" if recovery_s is None else
            f"recovered {recovery_s:.1f} s after the revert (limit {e.recovery_within_s:g} s)"))
    if has_faults and e.expect_effect and effect is not None:
        if not effect["judged"]:
            out.append(verdict(phase, "fault effect", False,
                               f"fault had no observable effect: {effect['reason']}"))
        elif not effect["shifted"]:
            out.append(verdict(phase, "fault effect", False,
                               f"fault had no observable effect ({_p_values(effect)})"))
        else:
            out.append(verdict(phase, "fault effect", True, _p_values(effect)))
    return out


def _p_values(effect: Mapping[str, Any]) -> str:
    return (f"latency Mann-Whitney p={effect['latency_p']:.2g}, slow tail p={effect['tail_p']:.2g}, "
            f"error rate p={effect['errors_p']:.2g}")


def judge_steady(phase: str, summary: Mapping[str, Any], steady: Any) -> list[dict[str, Any]]:
    return [
        _limit(phase, "steady_state.max_error_rate", summary["error_rate"],
               steady.max_error_rate, ""),
        _limit(phase, "steady_state.max_p99_ms", summary["latency_ms"]["p99"],
               steady.max_p99_ms, " ms"),
    ]


def recovery_time(points: Sequence[Mapping[str, Any]], revert_s: float, end_s: float,
                  steady: Any) -> float | None:
    """Seconds from `revert_s` to the first timeline bucket after which every bucket up to
    `end_s` is healthy (steady-state error rate and p99); None if it never got there."""
    after = [p for p in points if revert_s <= p["t_s"] < end_s and p["requests"]]
    recovered_at = None
    for point in after:
        healthy = (point["error_rate"] <= steady.max_error_rate
                   and (point["p99_ms"] or 0.0) <= steady.max_p99_ms)
        if not healthy:
            recovered_at = None
        elif recovered_at is None:
            recovered_at = point["t_s"]
    return None if recovered_at is None else max(0.0, recovered_at - revert_s)
