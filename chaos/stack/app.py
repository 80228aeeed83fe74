"""The application under test, in its own process: uvicorn serving the blog example.

The Stack gives it an environment that routes its database, cache database and JWKS
traffic through Toxiproxy and turns on the chaos agent with a random token; its output
is captured to a log file.

Example::

    app = AppProcess({"DATABASE_URL": proxied_url, "FRAISEQL_CHAOS_AGENT_TOKEN": token})
    await app.start()            # returns once /health and /ready answer 200
    httpx.post(f"{app.url}/graphql", json={"query": "{ postCount }"})
    await app.stop()
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

import httpx

from chaos.errors import StackError
from chaos.stack.base import LOOPBACK, free_port, tail, wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]
BLOG_APP = "examples.blog.app:app"


class AppProcess:
    """``python -m uvicorn <asgi_app>`` on a free loopback port, with ``env`` added."""

    name = "app"

    def __init__(
        self,
        env: Mapping[str, str],
        *,
        asgi_app: str = BLOG_APP,
        log_dir: Path | None = None,
        start_timeout_s: float = 60.0,
        workers: int = 1,
    ) -> None:
        self.env = dict(env)
        self.workers = workers
        self.asgi_app = asgi_app
        self.start_timeout_s = start_timeout_s
        self._log_dir = log_dir
        self.log_path: Path | None = None
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def agent_token(self) -> str | None:
        return self.env.get("FRAISEQL_CHAOS_AGENT_TOKEN")

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    async def start(self) -> None:
        self.port = self.port or free_port()  # a restart keeps the address clients know
        log_dir = self._log_dir or Path(tempfile.mkdtemp(prefix="fraiseql-app-"))
        self.log_path = log_dir / "app.log"
        python_path = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
        command = [
            sys.executable, "-m", "uvicorn", self.asgi_app,
            "--host", LOOPBACK, "--port", str(self.port), "--log-level", "warning",
        ]
        if self.workers > 1:  # uvicorn's supervisor restarts a worker that dies
            command += ["--workers", str(self.workers)]
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(
                command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, **self.env, "PYTHONPATH": python_path},
            )
        try:
            await wait_until(self._ready_or_died, self.start_timeout_s, f"the app on {self.url} to be ready")
        except StackError as exc:
            await self.stop()
            raise StackError(f"the app did not become ready: {exc}\n{tail(self.log_path)}") from exc

    async def _ready_or_died(self) -> bool:
        if self._process is not None and self._process.poll() is not None:
            raise StackError(f"the app exited with status {self._process.returncode}")
        return await self.healthy()

    async def stop(self) -> None:
        """SIGTERM (uvicorn shuts down gracefully), SIGKILL after 10 s."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(process.wait, 10)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait, 5)

    def worker_pids(self) -> list[int]:
        """The processes serving requests: uvicorn's workers under its supervisor when
        ``workers > 1``, else the one process."""
        if self._process is None or self._process.poll() is not None:
            return []
        if self.workers == 1:
            return [self._process.pid]
        try:
            children = Path(f"/proc/{self._process.pid}/task/{self._process.pid}/children").read_text()
        except OSError:
            return []
        return [int(pid) for pid in children.split() if _is_worker(int(pid))]

    def kill(self, pid: int | None = None) -> int:
        """SIGKILL one worker (default: the first); returns its pid. Nothing is drained."""
        pids = self.worker_pids()
        victim = pid if pid is not None else (pids[0] if pids else None)
        if victim is None:
            raise StackError("the app is not running: nothing to kill")
        os.kill(victim, signal.SIGKILL)
        return victim

    async def restart(self) -> None:
        """Start the app again on the same port after it died (what a supervisor does)."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
        if process is not None:
            await asyncio.to_thread(process.wait, 10)
        await self.start()

    def exited(self) -> bool:
        return self._process is None or self._process.poll() is not None

    async def healthy(self) -> bool:
        """Both /health (the process answers) and /ready (its database answers) say 200."""
        try:
            async with httpx.AsyncClient(base_url=self.url, timeout=3) as client:
                for path in ("/health", "/ready"):
                    if (await client.get(path)).status_code != 200:
                        return False
            return True
        except httpx.HTTPError:
            return False

    def logs(self) -> str:
        return tail(self.log_path)


def _is_worker(pid: int) -> bool:
    """A child of uvicorn's supervisor that serves requests (not multiprocessing's tracker)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"resource_tracker" not in cmdline
