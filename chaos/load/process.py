"""LoadProcess: locust, headless, in its own process, for a bounded time, loopback only.

Example::

    options = LoadOptions(app_url=stack.app_url, users=4, rate_per_s=20,
                          mix={"read_posts": 3, "create_post": 1}, duration_s=30, seed=7,
                          log_path=report_dir / "requests.jsonl")
    with LoadProcess(options) as load:      # started; stopped (SIGTERM, then kill) on exit
        load.wait()                         # returns once locust's run time is over
    records, _ = read_log(options.log_path, 0)
"""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from chaos.errors import ChaosError
from chaos.scenario.models import OPERATIONS

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
_REPO_ROOT = Path(__file__).resolve().parents[2]
STOP_TIMEOUT_S = 5  # locust's --stop-timeout: running requests get this long to finish
# Importing locust and spawning its users takes seconds on a busy machine; a run's phase
# clock starts only once the first request is logged, or the baseline would be empty.
START_TIMEOUT_S = 90


class LoadError(ChaosError):
    """The load generator was misconfigured or could not run."""


def require_loopback(url: str) -> None:
    """Refuse any target that is not on this machine: the harness attacks only what it started."""
    host = urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise LoadError(f"load target {url!r} is not a loopback address (127.0.0.0/8, ::1, localhost)")


@dataclass(frozen=True)
class LoadOptions:
    """What locust sends, for how long, and where each request is logged."""

    app_url: str
    users: int
    rate_per_s: float
    mix: dict[str, float]
    duration_s: float
    seed: int
    log_path: str | os.PathLike[str]
    tokens: list[str] | None = None
    authenticated_share: float = 0.0
    retry_share: float = 0.5
    timeout_s: float = 10.0
    extra_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        require_loopback(self.app_url)
        unknown = sorted(set(self.mix) - set(OPERATIONS))
        if unknown:
            raise LoadError(f"unknown operations in the mix: {', '.join(unknown)} (known: {', '.join(OPERATIONS)})")
        if self.users < 1 or self.rate_per_s <= 0 or self.duration_s <= 0:
            raise LoadError("users, rate_per_s and duration_s must be positive")


class LoadProcess:
    """Runs locust headless in a child process (its own session, so it can be stopped whole)."""

    def __init__(self, options: LoadOptions) -> None:
        self.options = options
        self.output_path = Path(options.log_path).with_suffix(".locust.log")
        self._process: subprocess.Popen[bytes] | None = None
        self._tokens_file: Path | None = None

    def command(self) -> list[str]:
        o = self.options
        return [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
                "--users", str(o.users), "--spawn-rate", str(o.users),
                "--run-time", f"{max(1, round(o.duration_s))}s", "--host", o.app_url.rstrip("/"),
                "--only-summary", "--stop-timeout", str(STOP_TIMEOUT_S), "--exit-code-on-error", "0",
                "--loglevel", "WARNING"]

    def start(self) -> LoadProcess:
        if self._process is not None:
            raise LoadError("this load process was already started")
        o = self.options
        Path(o.log_path).parent.mkdir(parents=True, exist_ok=True)
        Path(o.log_path).touch()
        env = {**os.environ, **o.extra_env,
               "CHAOS_LOAD_OPTIONS": json.dumps(self._child_options()),
               "PYTHONPATH": os.pathsep.join(filter(None, [str(_REPO_ROOT), os.environ.get("PYTHONPATH")]))}
        with open(self.output_path, "wb") as output:
            self._process = subprocess.Popen(self.command(), env=env, stdout=output, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, start_new_session=True)
        return self

    def wait_started(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Block until the first request is in the log.

        Raises LoadError when locust exits first or nothing is logged within ``timeout_s``.
        """
        if self._process is None:
            raise LoadError("the load process was never started")
        began = time.monotonic()
        log_path = Path(self.options.log_path)
        while log_path.stat().st_size == 0:
            if self._process.poll() is not None:
                raise LoadError(f"locust exited ({self._process.returncode}) before its first "
                                f"request: {self.output()[-2000:]}")
            if time.monotonic() - began > timeout_s:
                self.stop()
                raise LoadError(f"locust logged no request within {timeout_s:g} s; see "
                                f"{self.output_path}")
            time.sleep(0.05)

    def _child_options(self) -> dict[str, object]:
        o = self.options
        if o.tokens:
            # A file, not the environment: tokens do not belong in `ps e` output.
            handle, name = tempfile.mkstemp(prefix="chaos-tokens-", suffix=".txt")
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write("\n".join(o.tokens) + "\n")
            self._tokens_file = Path(name)
        return {"mix": o.mix, "rate_per_s": o.rate_per_s, "users": o.users, "seed": o.seed,
                "log_path": str(o.log_path), "tokens_path": str(self._tokens_file or ""),
                "authenticated_share": o.authenticated_share, "retry_share": o.retry_share,
                "timeout_s": o.timeout_s}

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self._process is None else self._process.poll()

    def wait(self, timeout_s: float | None = None) -> int:
        """Wait for locust to finish by itself (bounded: run time + stop timeout + a margin)."""
        if self._process is None:
            raise LoadError("the load process was never started")
        bound = timeout_s if timeout_s is not None else self.options.duration_s + STOP_TIMEOUT_S + 30
        try:
            return self._process.wait(timeout=bound)
        except subprocess.TimeoutExpired:
            self.stop()
            raise LoadError(f"locust did not finish within {bound:g} s; see {self.output_path}") from None

    def stop(self, grace_s: float = STOP_TIMEOUT_S + 5) -> int | None:
        """Stop early: SIGTERM to the whole process group, then SIGKILL after ``grace_s``."""
        process = self._process
        try:
            if process is not None and process.poll() is None:
                self._signal(process, signal.SIGTERM)
                try:
                    process.wait(timeout=grace_s)
                except subprocess.TimeoutExpired:
                    self._signal(process, signal.SIGKILL)
                    process.wait(timeout=10)
        finally:
            if self._tokens_file is not None:
                self._tokens_file.unlink(missing_ok=True)
                self._tokens_file = None
        return None if process is None else process.returncode

    def output(self) -> str:
        """What locust printed (its summary, or why it failed)."""
        try:
            return self.output_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    @staticmethod
    def _signal(process: subprocess.Popen[bytes], signum: int) -> None:
        try:
            os.killpg(process.pid, signum)  # its own session: the group is locust and only locust
        except ProcessLookupError:
            pass

    def __enter__(self) -> LoadProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
