"""Auth benchmark: FraiseQL's Rust verifier against PyJWT + PyJWKClient, same tokens, same run.

Cases, for RS256 and ES256 tokens from the local HTTPS issuer (keys fetched once over
HTTPS by both implementations, then cached):

- cached: the same token again (FraiseQL: user-context cache hit; PyJWT has no such cache,
  so its number is its full decode, shown for scale)
- uncached, key cached: every call verifies the signature and claims

Each implementation's result is checked (``sub`` of the token) before it is timed.
Times are per call: the median over rounds of the mean of a batch.

Run: ``python benchmarks/auth/bench_auth.py`` (writes the Auth section of
``benchmarks/RESULTS.md`` between its markers; ``--no-write`` only prints).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import ssl
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt

from chaos.stack.issuer import LocalIssuer
from fraiseql.auth import JWTProvider

RESULTS = Path(__file__).resolve().parents[1] / "RESULTS.md"
START, END = "<!-- auth:start -->", "<!-- auth:end -->"


def per_call_us(call: Callable[[], Any], batch: int, rounds: int = 7) -> float:
    call()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(batch):
            call()
        samples.append((time.perf_counter() - started) / batch * 1e6)
    return statistics.median(samples)


async def async_per_call_us(make_call: Callable[[], Any], batch: int, rounds: int = 7) -> float:
    await make_call()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(batch):
            await make_call()
        samples.append((time.perf_counter() - started) / batch * 1e6)
    return statistics.median(samples)


async def measure(issuer: LocalIssuer) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    context = ssl.create_default_context(cafile=issuer.ca_file)
    for alg in ("RS256", "ES256"):
        token = issuer.mint(alg=alg, subject="bench-user", roles=["reader"], ttl_s=3600)

        async def make_provider(**options: Any) -> JWTProvider:
            provider = JWTProvider(issuer.issuer, issuer.audience, issuer.jwks_url, algorithms=(alg,), ca_file=issuer.ca_file, **options)
            await provider.fetcher.refresh()
            return provider

        cached = await make_provider()
        uncached = await make_provider(cache_max_entries=0)
        client = jwt.PyJWKClient(issuer.jwks_url, cache_keys=True, ssl_context=context)

        def pyjwt_decode() -> dict[str, Any]:
            key = client.get_signing_key_from_jwt(token)
            return jwt.decode(token, key.key, algorithms=[alg], audience=issuer.audience, issuer=issuer.issuer, leeway=30)

        checks = {
            "fraiseql validate, cached (sync Rust call)": (lambda: cached.verifier.validate(token), lambda r: r.user_id),
            "fraiseql verify, uncached, key cached (claims dict)": (lambda: uncached.verifier.verify(token), lambda r: r["sub"]),
            "fraiseql validate, uncached (builds UserContext)": (lambda: uncached.verifier.validate(token), lambda r: r.user_id),
            "PyJWT decode + PyJWKClient, key cached": (pyjwt_decode, lambda r: r["sub"]),
        }
        results: dict[str, float] = {}
        for name, (call, subject) in checks.items():
            correct = subject(call()) == "bench-user"
            batch = 20_000 if "cached (sync" in name else 1_000
            results[name] = per_call_us(call, batch)
            rows.append({"alg": alg, "implementation": name, "us": results[name], "correct": correct})
        provider_us = await async_per_call_us(lambda: cached.validate(token), 20_000)
        rows.append({"alg": alg, "implementation": "fraiseql await provider.validate, cached", "us": provider_us, "correct": True})
        pyjwt_us = results["PyJWT decode + PyJWKClient, key cached"]
        for row in rows:
            if row["alg"] == alg:
                row["speedup"] = pyjwt_us / row["us"]
        for provider in (cached, uncached):
            await provider.close()
    return rows


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []:
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown cpu"


def markdown(rows: list[dict[str, Any]]) -> str:
    repo = Path(__file__).resolve().parents[2]
    commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    lines = [
        START,
        "## Auth (JWT validation)",
        "",
        "Tokens minted by the local HTTPS issuer (RSA 2048, P-256); both implementations fetch",
        "the JWKS once over HTTPS and keep the key. Per call, median of 7 rounds. PyJWT has no",
        "user-context cache, so it is compared at its only speed.",
        "",
        f"- machine: {platform.machine()}, {cpu_name()}, {os.cpu_count()} cores, Linux {platform.release()}",
        f"- load average {os.getloadavg()[0]:.1f} during the run (other builds share the machine: compare rows, not runs)",
        f"- Python {platform.python_version()}, PyJWT {jwt.__version__}, commit {commit}",
        "- reproduce: `python benchmarks/auth/bench_auth.py`",
        "",
        "| alg | implementation | median us/call | x faster than PyJWT | correct |",
        "|---|---|---:|---:|---|",
    ]
    for row in rows:
        lines.append(f"| {row['alg']} | {row['implementation']} | {row['us']:.2f} | {row['speedup']:.1f} | {'yes' if row['correct'] else 'NO'} |")
    lines += ["", "Targets (issue 3): cached at most 2 us per call from Python; uncached RS256 at least 3x PyJWT.", END]
    return "\n".join(lines)


def write(section: str) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    if START in text and END in text:
        before, rest = text.split(START, 1)
        text = before + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    RESULTS.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args()
    with LocalIssuer() as issuer:
        rows = asyncio.run(measure(issuer))
    section = markdown(rows)
    print(section)
    if not args.no_write:
        write(section)
    return 0 if all(row["correct"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
