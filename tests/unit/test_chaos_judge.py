"""The runner's judge: what counts as a fault's observable effect, and the phase verdicts."""

from __future__ import annotations

import random

from chaos.runner.judge import observable_effect


def requests(latencies: list[float], errors: int = 0) -> list[dict]:
    out = [{"latency_ms": v, "status": 200, "codes": []} for v in latencies]
    for record in out[:errors]:
        record["codes"] = ["DATABASE_UNAVAILABLE"]
    return out


def sample(rng: random.Random, n: int, mean_ms: float) -> list[float]:
    return [rng.expovariate(1 / mean_ms) + 2.0 for _ in range(n)]


def test_slower_window_is_an_effect() -> None:
    rng = random.Random(1)
    effect = observable_effect(requests(sample(rng, 200, 40)), requests(sample(rng, 500, 12)))
    assert effect["judged"] and effect["shifted"]
    assert effect["latency_p"] < 0.01


def test_faster_window_is_not_an_effect() -> None:
    """Regression: a two-sided test called a window that was faster than the baseline an
    effect, so a harmless toxic (latency 0) passed as having fired."""
    rng = random.Random(2)
    effect = observable_effect(requests(sample(rng, 200, 9)), requests(sample(rng, 500, 13)))
    assert effect["judged"] and not effect["shifted"]


def test_same_distribution_is_not_an_effect() -> None:
    rng = random.Random(3)
    effect = observable_effect(requests(sample(rng, 300, 12)), requests(sample(rng, 600, 12)))
    assert not effect["shifted"]


def test_tiny_but_significant_slowdown_is_not_an_effect() -> None:
    """With thousands of requests a 2% shift is significant; it is still not a fault's effect."""
    base = [10.0 + (i % 100) / 10 for i in range(5000)]
    window = [v * 1.02 for v in base]
    effect = observable_effect(requests(window), requests(base))
    assert effect["latency_p"] < 0.01 and not effect["shifted"]


def test_slow_tail_alone_is_an_effect() -> None:
    """A fault that slows one request in five (cache misses, say) leaves the median alone."""
    rng = random.Random(4)
    window = [v * (30 if i % 5 == 0 else 1) for i, v in enumerate(sample(rng, 300, 12))]
    effect = observable_effect(requests(window), requests(sample(rng, 500, 12)))
    assert effect["shifted"] and effect["tail_p"] < 0.01


def test_more_errors_alone_is_an_effect() -> None:
    rng = random.Random(5)
    effect = observable_effect(requests(sample(rng, 300, 12), errors=30),
                               requests(sample(rng, 500, 12)))
    assert effect["shifted"] and effect["errors_p"] < 0.01


def test_too_few_requests_is_not_judged() -> None:
    effect = observable_effect(requests([1.0, 2.0]), requests([1.0] * 50))
    assert not effect["judged"] and "too few requests" in effect["reason"]


def test_a_run_that_drifted_needs_the_window_worse_than_the_end_too() -> None:
    from chaos.runner.judge import effect_against_drift

    rng = random.Random(6)
    baseline, drifted = requests(sample(rng, 300, 10)), requests(sample(rng, 300, 30))
    same_as_end = requests(sample(rng, 200, 30))
    effect = effect_against_drift(same_as_end, baseline, drifted)
    assert not effect["shifted"] and effect["drifted"]
    worse_than_both = requests(sample(rng, 200, 120))
    assert effect_against_drift(worse_than_both, baseline, drifted)["shifted"]


def test_without_drift_the_baseline_decides() -> None:
    from chaos.runner.judge import effect_against_drift

    rng = random.Random(7)
    baseline, end = requests(sample(rng, 300, 10)), requests(sample(rng, 300, 10))
    assert effect_against_drift(requests(sample(rng, 200, 40)), baseline, end)["shifted"]


def test_a_load_that_stalls_shows_an_effect_by_its_rate() -> None:
    """Regression: requests hung behind a lock left too few samples to judge, and the fault
    was reported as having no observable effect."""
    rng = random.Random(8)
    effect = observable_effect(requests([9000.0] * 4), requests(sample(rng, 120, 10)),
                               window_s=6.0, baseline_s=6.0)
    assert effect["shifted"] and effect["throughput_share"] < 0.1


def test_the_same_rate_is_not_an_effect_by_itself() -> None:
    rng = random.Random(9)
    effect = observable_effect(requests(sample(rng, 120, 10)), requests(sample(rng, 120, 10)),
                               window_s=6.0, baseline_s=6.0)
    assert not effect["shifted"] and "throughput_share" not in effect
