"""What every part of the stack is: a component with start, stop, health and logs.

Also the two helpers every component needs: a free loopback port (so several stacks run
side by side, e.g. under pytest-xdist) and a bounded wait for a condition.

Example::

    port = free_port()
    await wait_until(lambda: server_answers(port), timeout_s=10, what="the server to listen")
"""

from __future__ import annotations

import asyncio
import inspect
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit, urlunsplit

from chaos.errors import StackError

LOOPBACK = "127.0.0.1"




@runtime_checkable
class Component(Protocol):
    """A part of the stack: started and stopped by the Stack, in order and in reverse."""

    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None:
        """Idempotent; safe after a start that failed half-way."""

    async def healthy(self) -> bool: ...

    def logs(self) -> str:
        """The component's captured output (its log file), for reports and error messages."""


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that was free on ``host`` a moment ago (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


async def wait_until(
    predicate: Callable[[], bool | Awaitable[bool]],
    timeout_s: float,
    what: str,
    *,
    interval_s: float = 0.05,
) -> None:
    """Poll ``predicate`` until it returns true; StackError naming ``what`` after ``timeout_s``.

    An exception from the predicate counts as "not yet" (a server that is still starting
    refuses connections) and is quoted in the timeout error; a StackError from the
    predicate means "this will never happen" (the process died) and ends the wait at once.
    """
    deadline = time.monotonic() + timeout_s
    last_error: BaseException | None = None
    while True:
        try:
            outcome = predicate()
            if inspect.isawaitable(outcome):
                outcome = await outcome
            if outcome:
                return
        except StackError:
            raise
        except Exception as exc:  # noqa: BLE001 - quoted in the timeout error below
            last_error = exc
        if time.monotonic() >= deadline:
            cause = f" (last error: {last_error!r})" if last_error else ""
            raise StackError(f"timed out after {timeout_s:g} s waiting for {what}{cause}")
        await asyncio.sleep(interval_s)


def tail(path: Path | None, lines: int = 40) -> str:
    """The last ``lines`` of a log file, or a note saying there is none."""
    if path is None:
        return "(no log)"
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


def with_address(url: str, address: str) -> str:
    """``url`` with its host:port replaced by ``address`` (user, database and query kept).

    Example: ``with_address("postgresql://u@h:1/db", "127.0.0.1:2")`` -> ``postgresql://u@127.0.0.1:2/db``
    """
    parts = urlsplit(url)
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit(parts._replace(netloc=f"{user}{address}"))
