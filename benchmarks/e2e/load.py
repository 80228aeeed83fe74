"""Drive a server with wrk: one POST body, fixed connections and duration, JSON results.

wrk (Debian's package) sends the same body on every request; a generated Lua script sets
the method, headers and body, and its ``done`` hook writes requests, errors and latency
percentiles (microseconds) to a JSON file that ``run_wrk`` reads back.

Example::

    result = run_wrk("http://127.0.0.1:8000/graphql", body, connections=16, duration_s=10,
                     workdir=Path("/tmp/run"))
    result.requests_per_s, result.p50_ms, result.p99_ms
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
wrk.body = %(body)s

function done(summary, latency, requests)
  local e = summary.errors
  local out = io.open(%(out)s, "w")
  out:write(string.format(
    '{"requests": %%d, "duration_us": %%d, "connect": %%d, "read": %%d, "write": %%d, ' ..
    '"status": %%d, "timeout": %%d, "p50_us": %%d, "p90_us": %%d, "p99_us": %%d, ' ..
    '"max_us": %%d, "mean_us": %%f}',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
  out:close()
end
"""


@dataclass(frozen=True)
class LoadResult:
    requests: int
    duration_s: float
    errors: int  # socket errors, timeouts and non-2xx answers
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0


def lua_string(text: str) -> str:
    """``text`` as a Lua string literal (long brackets cannot hold every body)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def wrk_script(body: bytes, out_path: Path) -> str:
    return _SCRIPT % {"body": lua_string(body.decode()), "out": lua_string(str(out_path))}


def run_wrk(
    url: str, body: bytes, *, connections: int, duration_s: int, workdir: Path, threads: int = 1
) -> LoadResult:
    """One bounded wrk run against ``url`` (loopback only) and its results."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"load is only sent to loopback addresses, not {url}")
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed (Debian: apt-get install wrk)")
    workdir.mkdir(parents=True, exist_ok=True)
    out_path = workdir / "wrk-result.json"
    out_path.unlink(missing_ok=True)
    script = workdir / "wrk-script.lua"
    script.write_text(wrk_script(body, out_path))
    command = [
        wrk, f"-t{threads}", f"-c{connections}", f"-d{duration_s}s", "--timeout", "10s",
        "-s", str(script), url,
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=duration_s + 60)
    raw = json.loads(out_path.read_text())
    errors = raw["connect"] + raw["read"] + raw["write"] + raw["status"] + raw["timeout"]
    return LoadResult(
        requests=raw["requests"],
        duration_s=raw["duration_us"] / 1e6,
        errors=errors,
        p50_ms=raw["p50_us"] / 1000.0,
        p90_ms=raw["p90_us"] / 1000.0,
        p99_ms=raw["p99_us"] / 1000.0,
        max_ms=raw["max_us"] / 1000.0,
    )
