"""The Rust verifier releases the GIL while it verifies a signature.

Counted, not timed: the switch interval is set so high that the interpreter never takes
the GIL away from a running thread on its own. A Python "bystander" thread can then
only advance while a verifying thread has *given the GIL up*. Each verifying thread
notes, around every call, whether the bystander's counter moved during the call. The
control experiment (a pure-Python call of similar length, which holds the GIL) must see
the counter stand still, which shows that the measurement can tell the two apart.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chaos.stack.issuer import Keyring

ALG = "ES384"  # the slowest of the verifications (~1 ms): a wide window for the bystander
THREADS = 3
CALLS = 40


class Bystander:
    """A Python thread that counts for as long as it holds the GIL, then yields it."""

    def __init__(self) -> None:
        self.progress = 0
        self._stop = threading.Event()
        self._running = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self._running.set()
        while not self._stop.is_set():
            self.progress += 1
            time.sleep(0)  # give the GIL back: it can only be taken again when released

    def __enter__(self) -> Bystander:
        self._thread.start()
        self._running.wait(10)
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(10)


@pytest.fixture
def no_forced_switching() -> Iterator[None]:
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def overlapping_calls(call: Callable[[Any], Any], inputs: list[list[Any]]) -> tuple[int, list[Any]]:
    """Run ``call`` on each thread's inputs at once; count calls during which the bystander moved."""
    overlapped = [0] * len(inputs)
    results: list[Any] = [None] * len(inputs)
    start = threading.Barrier(len(inputs))

    def work(index: int) -> None:
        start.wait()
        out = []
        for item in inputs[index]:
            seen = bystander.progress
            out.append(call(item))
            if bystander.progress != seen:
                overlapped[index] += 1
        results[index] = out

    with Bystander() as bystander:
        threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    return sum(overlapped), results


def test_uncached_verification_lets_other_python_threads_run(
    make_verifier, keyring: Keyring, no_forced_switching: None
) -> None:
    verifier = make_verifier((ALG,), cache_max_entries=0)  # every call really verifies
    tokens = [[keyring.mint(alg=ALG, subject=f"t{t}-{n}") for n in range(CALLS)] for t in range(THREADS)]
    overlapped, users = overlapping_calls(verifier.validate, tokens)
    assert [[u.user_id for u in out] for out in users] == [[f"t{t}-{n}" for n in range(CALLS)] for t in range(THREADS)]
    assert overlapped > 0, "the bystander never ran during a verification: the GIL was held"
    assert verifier.cache_stats()["hits"] == 0


def test_control_a_call_that_holds_the_gil_never_lets_the_bystander_run(no_forced_switching: None) -> None:
    def busy(n: int) -> int:
        return sum(range(n))  # pure Python: the GIL is held throughout

    overlapped, results = overlapping_calls(busy, [[20_000] * CALLS for _ in range(THREADS)])
    assert results[0][0] == sum(range(20_000))
    assert overlapped == 0
