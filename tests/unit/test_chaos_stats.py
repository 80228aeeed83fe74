"""Per-phase statistics: the per-second counts compare's error-rate test reads."""

from __future__ import annotations

from chaos.report.stats import per_second


def test_per_second_counts_requests_and_errors_in_each_second_of_the_phase() -> None:
    records = [
        {"t": 100.2, "status": 200, "codes": []},
        {"t": 100.9, "status": 503, "codes": ["DATABASE_UNAVAILABLE"]},
        {"t": 102.5, "status": None, "codes": []},  # no response: an error
        {"t": 102.6, "status": 200, "codes": ["VALIDATION_ERROR"]},
        {"t": 99.9, "status": 503, "codes": []},  # before the phase
        {"t": 103.5, "status": 503, "codes": []},  # after it
    ]
    assert per_second(records, 100.0, 103.5) == [[2, 1], [0, 0], [2, 2], [0, 0]]
