"""Per-phase statistics and timelines computed from request records (chaos.load's log lines).

A request is an error when it got no HTTP response, a status >= 400, or GraphQL error codes.

Example::

    summary = summarize([{"t": 1.0, "latency_ms": 12.0, "status": 200, "codes": []}])
    summary["latency_ms"]["p99"]  # 12.0
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Record = Mapping[str, Any]
SAMPLE_LIMIT = 5000  # latency samples kept per phase in report.json, for compare


def is_error(record: Record) -> bool:
    status = record.get("status")
    return status is None or status >= 400 or bool(record.get("codes"))


def error_code(record: Record) -> str:
    """The name an error is counted under: its first GraphQL code, else its HTTP status."""
    codes = record.get("codes") or []
    if codes:
        return str(codes[0])
    status = record.get("status")
    return "NO_RESPONSE" if status is None else f"HTTP_{status}"


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of already sorted values; None when empty."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return float(sorted_values[rank - 1])


def latency_summary(latencies_ms: Iterable[float]) -> dict[str, float | None]:
    values = sorted(latencies_ms)
    return {
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": values[-1] if values else None,
        "mean": sum(values) / len(values) if values else None,
    }


def sample(values: Sequence[float], limit: int = SAMPLE_LIMIT, seed: int = 0) -> list[float]:
    """At most `limit` values, chosen reproducibly, so reports stay small but comparable."""
    if len(values) <= limit:
        return [round(v, 3) for v in values]
    return [round(v, 3) for v in random.Random(seed).sample(list(values), limit)]


def summarize(records: Sequence[Record], seed: int = 0) -> dict[str, Any]:
    """Request count, error rate, errors by code, latency percentiles and samples."""
    errors = [r for r in records if is_error(r)]
    latencies = [float(r["latency_ms"]) for r in records if r.get("latency_ms") is not None]
    max_request_ms = max(latencies) if latencies else None
    return {
        "requests": len(records),
        "errors": len(errors),
        "error_rate": len(errors) / len(records) if records else 0.0,
        "errors_by_code": dict(Counter(error_code(r) for r in errors).most_common()),
        "status_5xx_without_graphql_error": sum(
            1 for r in records if (r.get("status") or 0) >= 500 and not r.get("codes")
        ),
        "max_request_ms": max_request_ms,
        "latency_ms": latency_summary(latencies),
        "latency_samples_ms": sample(latencies, seed=seed),
    }


def per_second(records: Sequence[Record], started_at: float, ended_at: float) -> list[list[int]]:
    """``[requests, errors]`` for each second from ``started_at`` to ``ended_at`` (unix s; the
    last second may be partial). compare's error-rate test counts these seconds rather than
    single requests: under a fault, errors come in runs (an open breaker answers every
    request of its window at once), not as independent trials."""
    counts = [[0, 0] for _ in range(max(1, math.ceil(ended_at - started_at)))]
    for record in records:
        t = float(record["t"])
        if started_at <= t < ended_at:
            index = int(t - started_at)
            counts[index][0] += 1
            counts[index][1] += is_error(record)
    return counts


def timeline(
    records: Sequence[Record], started_at: float, ended_at: float, bucket_s: float = 1.0
) -> list[dict[str, Any]]:
    """Requests, error rate and p50/p99 latency per time bucket since `started_at` (unix s)."""
    buckets = max(1, math.ceil((ended_at - started_at) / bucket_s))
    grouped: list[list[Record]] = [[] for _ in range(buckets)]
    for record in records:
        index = int((float(record["t"]) - started_at) // bucket_s)
        if 0 <= index < buckets:
            grouped[index].append(record)
    points = []
    for index, group in enumerate(grouped):
        latencies = sorted(float(r["latency_ms"]) for r in group if r.get("latency_ms") is not None)
        errors = sum(1 for r in group if is_error(r))
        points.append({
            "t_s": round(index * bucket_s, 3),
            "requests": len(group),
            "error_rate": errors / len(group) if group else 0.0,
            "p50_ms": percentile(latencies, 50),
            "p99_ms": percentile(latencies, 99),
        })
    return points
