"""Verdicts: each expectation of each phase, the steady state, fault evidence, integrity.

A fault phase "had an observable effect" when its requests are worse than the baseline's
in at least one of three ways, each both significant (one-sided test, p < 0.01) and large
enough to matter:

- latency: Mann-Whitney U says the window's latencies are stochastically greater, and its
  median is at least 10% (and 1 ms) above the baseline's;
- slow tail: Fisher's exact test says more requests exceed the baseline's p95, and at least
  twice the baseline's share do (a fault that slows only cache misses moves the tail, not
  the median);
- errors: Fisher's exact test says the error rate grew, by at least one percentage point;
- throughput: the load (closed loop: each user waits for its answer) sent under half the
  baseline's request rate, because its requests hung.

Only degradation counts: a window that happens to be faster than the baseline (caches
warmer, a neighbour quieter) is no effect. When ``expect_effect`` holds and none of the
three is seen, the verdict is "fault had no observable effect": a harmless fault is a
failure, never a silent pass.

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
MIN_MEDIAN_SHIFT = 1.10  # window median over baseline median
MIN_MEDIAN_SHIFT_MS = 1.0
MIN_TAIL_GROWTH = 2.0  # window share above the baseline's p95 over the baseline's share
MIN_ERROR_RATE_GROWTH = 0.01  # absolute, in error rate
MAX_THROUGHPUT_SHARE = 0.5  # a window with under half the baseline's request rate shows an effect


def verdict(phase: str, expectation: str, passed: bool, message: str) -> dict[str, Any]:
    return {"phase": phase, "expectation": expectation, "passed": bool(passed), "message": message}


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def throughput_drop(window_n: int, window_s: float | None, baseline_n: int,
                    baseline_s: float | None) -> float | None:
    """The window's request rate over the baseline's (None when either is unknown): a
    closed-loop load whose requests hang sends fewer of them, which is an effect too."""
    if not window_s or not baseline_s or not baseline_n:
        return None
    expected = baseline_n / baseline_s * window_s
    return None if expected < MIN_EFFECT_SAMPLES else window_n / expected


def observable_effect(window: Sequence[Mapping[str, Any]], baseline: Sequence[Mapping[str, Any]],
                      window_s: float | None = None,
                      baseline_s: float | None = None) -> dict[str, Any]:
    """Whether requests during the fault windows are worse than the baseline's, with p-values
    and the effect sizes that were compared with the minimums above. With the windows'
    lengths, a request rate under ``MAX_THROUGHPUT_SHARE`` of the baseline's is an effect."""
    lat_a = [r["latency_ms"] for r in window if r.get("latency_ms") is not None]
    lat_b = [r["latency_ms"] for r in baseline if r.get("latency_ms") is not None]
    rate = throughput_drop(len(window), window_s, len(baseline), baseline_s)
    if rate is not None and rate < MAX_THROUGHPUT_SHARE:
        return {"judged": True, "shifted": True, "latency_p": None, "tail_p": None,
                "errors_p": None, "throughput_share": round(rate, 3),
                "reason": f"the load's request rate fell to {rate:.0%} of the baseline's"}
    if min(len(lat_a), len(lat_b)) < MIN_EFFECT_SAMPLES:
        return {"judged": False, "shifted": False, "latency_p": None, "tail_p": None,
                "errors_p": None,
                "reason": f"too few requests ({len(lat_a)} under fault, {len(lat_b)} baseline)"}
    latency_p = float(mannwhitneyu(lat_a, lat_b, alternative="greater").pvalue)
    median_a, median_b = _median(lat_a), _median(lat_b)
    slower = median_a >= max(median_b * MIN_MEDIAN_SHIFT, median_b + MIN_MEDIAN_SHIFT_MS)

    p95 = sorted(lat_b)[max(0, int(len(lat_b) * 0.95) - 1)]
    slow_a, slow_b = sum(1 for v in lat_a if v > p95), sum(1 for v in lat_b if v > p95)
    tail_p = float(fisher_exact([[slow_a, len(lat_a) - slow_a], [slow_b, len(lat_b) - slow_b]],
                                alternative="greater").pvalue)
    share_a, share_b = slow_a / len(lat_a), slow_b / len(lat_b)
    tail_grew = share_a >= MIN_TAIL_GROWTH * max(share_b, 1 / len(lat_b))

    err_a = sum(1 for r in window if is_error(r))
    err_b = sum(1 for r in baseline if is_error(r))
    errors_p = float(fisher_exact([[err_a, len(window) - err_a],
                                   [err_b, len(baseline) - err_b]],
                                  alternative="greater").pvalue)
    rate_a, rate_b = err_a / len(window), err_b / len(baseline)
    errors_grew = rate_a - rate_b >= MIN_ERROR_RATE_GROWTH

    shifted = ((latency_p < EFFECT_P_VALUE and slower)
               or (tail_p < EFFECT_P_VALUE and tail_grew)
               or (errors_p < EFFECT_P_VALUE and errors_grew))
    return {"judged": True, "shifted": shifted, "latency_p": latency_p, "tail_p": tail_p,
            "errors_p": errors_p, "median_ms": [round(median_b, 3), round(median_a, 3)],
            "slow_share": [round(share_b, 4), round(share_a, 4)],
            "error_rate": [round(rate_b, 4), round(rate_a, 4)], "reason": ""}


def effect_against_drift(window: Sequence[Mapping[str, Any]], baseline: Sequence[Mapping[str, Any]],
                         after: Sequence[Mapping[str, Any]], window_s: float | None = None,
                         baseline_s: float | None = None) -> dict[str, Any]:
    """``observable_effect`` against the baseline, unless the whole run drifted.

    When the steady phase at the end is itself worse than the baseline (the machine got
    busier, the data grew), a fault window worse than the baseline proves nothing: it must
    then also be worse than that later steady phase to count as the fault's effect.
    """
    effect = observable_effect(window, baseline, window_s, baseline_s)
    if not effect["shifted"] or not after or effect.get("throughput_share") is not None:
        return effect
    if not observable_effect(after, baseline)["shifted"]:
        return effect
    against_after = observable_effect(window, after)
    if against_after["shifted"] or not against_after["judged"]:
        return effect
    return {**effect, "shifted": False, "drifted": True,
            "reason": "worse than the baseline, but so was the steady phase after it, and the "
                      "fault window was not worse than that"}


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
            why = f"; {effect['reason']}" if effect.get("reason") else ""
            out.append(verdict(phase, "fault effect", False,
                               f"fault had no observable effect ({_p_values(effect)}){why}"))
        else:
            out.append(verdict(phase, "fault effect", True,
                               effect["reason"] if effect.get("throughput_share") is not None
                               else _p_values(effect)))
    return out


def _p_values(effect: Mapping[str, Any]) -> str:
    """One line: each test's p-value with the baseline -> window sizes it was judged on."""
    def pair(key: str, fmt: str) -> str:
        values = effect.get(key)
        return f" ({fmt.format(values[0])} -> {fmt.format(values[1])})" if values else ""

    return (f"latency Mann-Whitney p={effect['latency_p']:.2g}{pair('median_ms', '{:.1f} ms')}, "
            f"slow tail p={effect['tail_p']:.2g}{pair('slow_share', '{:.1%}')}, "
            f"error rate p={effect['errors_p']:.2g}{pair('error_rate', '{:.1%}')}")


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


REQUEST_SPAN = "graphql.request"
REQUEST_HISTOGRAM = "fraiseql.request.duration"


def _recorded(snapshot: Mapping[str, Any] | None) -> tuple[int, int] | None:
    """(request spans finished, request durations recorded) in one agent snapshot."""
    if not snapshot:
        return None
    spans = int((snapshot.get("spans") or {}).get(REQUEST_SPAN, 0))
    points = (snapshot.get("metrics") or {}).get(REQUEST_HISTOGRAM, [])
    return spans, sum(int(p.get("count", 0)) for p in points)


def judge_telemetry(phase: str, requests: int, start: Mapping[str, Any] | None,
                    end: Mapping[str, Any] | None, expectation: Any) -> list[dict[str, Any]]:
    """Did the app's telemetry see every request the load sent during the phase?

    ``start`` and ``end`` are the chaos agent's snapshots at the phase's edges; a request
    still in flight at an edge is counted on one side only, so coverage can be slightly
    off 1 either way."""
    wanted = [(name, getattr(expectation, f"min_{name}_coverage"), index)
              for index, name in enumerate(("span", "metric"))]
    wanted = [w for w in wanted if w[1] is not None]
    if not wanted:
        return []
    a, b = _recorded(start), _recorded(end)
    out = []
    for name, limit, index in wanted:
        label = f"min_{name}_coverage"
        if a is None or b is None or not requests:
            out.append(verdict(phase, label, False,
                               "no telemetry snapshots from the app's chaos agent" if requests
                               else "no requests in the phase"))
            continue
        seen = b[index] - a[index]
        coverage = seen / requests
        what = "graphql.request spans" if name == "span" else "request duration records"
        out.append(verdict(phase, label, coverage >= limit,
                           f"{seen} {what} for {requests} requests sent ({coverage:.1%}, "
                           f"limit {limit:.0%})"))
    return out
