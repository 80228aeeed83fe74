"""Live progress: rewritten in place on a TTY, periodic lines otherwise."""

from __future__ import annotations

import io

from chaos.events import PhaseStarted, RequestsLogged
from chaos.progress import Progress


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def batch(t: float, n: int, error: bool = False) -> RequestsLogged:
    return RequestsLogged([{"t": t + i / n, "latency_ms": 10.0 + i, "status": 500 if error else 200,
                            "codes": []} for i in range(n)])


def test_tty_rewrites_one_line_with_phase_rate_errors_and_p99() -> None:
    stream, now = FakeTTY(), [0.0]
    progress = Progress(stream, clock=lambda: now[0])
    progress(PhaseStarted("slow-db", "fault", 0.0, 10.0))
    progress(batch(100.0, 10))
    progress(batch(101.0, 10, error=True))
    text = stream.getvalue()
    assert text.count("\r\x1b[2K[slow-db]") == 2
    assert "50.0%" in text and "p99" in text and "req/s" in text


def test_non_tty_prints_a_line_per_interval() -> None:
    stream, now = io.StringIO(), [0.0]
    progress = Progress(stream, interval_s=5.0, clock=lambda: now[0])
    for second in range(12):
        now[0] = float(second)
        progress(batch(100.0 + second, 5))
    lines = [line for line in stream.getvalue().splitlines() if line.startswith("[")]
    assert len(lines) == 3  # at 0, 5 and 10 s
    assert "\r" not in stream.getvalue()
