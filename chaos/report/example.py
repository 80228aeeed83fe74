"""Synthetic but complete reports: for the tests of report, compare and CLI, and for docs.

Example::

    write_report(make_report("demo"), Path("/tmp/demo"))
"""

from __future__ import annotations

import random
from typing import Any

from chaos.report import SCHEMA_VERSION, resilience_score
from chaos.report.stats import per_second, summarize, timeline


def records(start: float, seconds: float, median_ms: float, error_share: float = 0.0,
            seed: int = 1, rate: int = 40) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for i in range(int(seconds * rate)):
        failed = rng.random() < error_share
        out.append({"t": start + i / rate, "op": "read_posts",
                    "latency_ms": rng.lognormvariate(0, 0.3) * median_ms,
                    "status": 200, "codes": ["DATABASE_ERROR"] if failed else []})
    return out


def make_report(name: str = "demo", fault_median_ms: float = 50.0, error_share: float = 0.0,
                seed: int = 1) -> dict[str, Any]:
    base = records(0.0, 10, 10.0, seed=seed)
    fault = records(10.0, 10, fault_median_ms, error_share, seed=seed + 1)
    report = {
        "schema_version": SCHEMA_VERSION,
        "scenario": {"name": name, "description": "a <test> scenario", "tags": ["network"],
                     "file": f"scenarios/{name}.yaml", "seed": 7, "profile": "quick"},
        "harness": {"fraiseql_version": "0.1.0", "git_commit": "abc"},
        "environment": {"python": "3.11"},
        "started_at": "2026-01-01T00:00:00+00:00",
        "duration_s": 20.0,
        "phases": [
            {"name": "baseline", "kind": "baseline", "start_s": 0.0, "end_s": 10.0,
             **summarize(base), "per_second": per_second(base, 0.0, 10.0)},
            {"name": "latency", "kind": "fault", "start_s": 10.0, "end_s": 20.0,
             **summarize(fault), "per_second": per_second(fault, 10.0, 20.0)},
        ],
        "timeline": timeline(base + fault, 0.0, 20.0),
        "faults": [{"phase": "latency", "type": "latency", "params": {"latency_ms": 40},
                    "applied_s": 10.0, "reverted_s": 20.0,
                    "evidence": {"fired": True, "details": {"bytes_downstream": 1234}}}],
        "recovery": {"measured": True, "from_s": 20.0, "time_s": 1.0},
        "integrity": {"acknowledged": 10, "lost": 0, "duplicated": 0, "unknown_landed": 0,
                      "unknown_not_landed": 0},
        "verdicts": [{"phase": "latency", "expectation": "max_error_rate", "passed": True,
                      "message": "0 (limit 0.05)"}],
        "exit_code": 0,
        "outcome": "passed",
        "error": None,
    }
    report["score"] = resilience_score(report)
    return report
