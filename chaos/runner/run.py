"""The Runner: stack up, clean leftovers, load, phases with faults, rollback, integrity, report.

Example::

    result = Runner(load_scenario("scenarios/network/latency.yaml", "quick"),
                    report_dir=Path("reports/runs/now/network-latency")).run()
    sys.exit(result.exit_code)     # 0 every expectation held, 1 one failed, 2 stack/file error
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chaos.errors import ChaosError, ScenarioError, StackError
from chaos.events import (
    EventBus,
    ExpectationJudged,
    FaultApplied,
    FaultReverted,
    PhaseStarted,
    RequestsLogged,
    RunFinished,
    RunStarted,
)
from chaos.report.writer import ReportPaths, write_report
from chaos.runner.assemble import Observed, assemble
from chaos.runner.plan import PlannedPhase, plan_phases
from chaos.runner.rollback import Rollback, SignalCancel
from chaos.telemetry import PhaseSpans, fetch_metrics

TICK_S = 0.25  # how often the phase loop tails the log and checks fault deadlines
LOAD_MARGIN_S = 3.0


@dataclass(frozen=True)
class RunResult:
    exit_code: int
    report: dict[str, Any]
    paths: ReportPaths

    @property
    def passed(self) -> bool:
        return self.exit_code == 0


class Runner:
    """Runs one scenario (already loaded and profile-scaled) and writes its report."""

    def __init__(self, scenario: Any, profile: str | None = None,
                 report_dir: str | Path | None = None, *, stack: Any = None,
                 bus: EventBus | None = None, backend: str = "local",
                 stacks: Any = None) -> None:
        if profile is not None and profile != scenario.profile:
            raise ScenarioError(str(scenario.path), "profile",
                                f"scenario was loaded with profile {scenario.profile!r}, "
                                f"not {profile!r}")
        self.scenario = scenario
        self.report_dir = Path(report_dir or Path("reports/runs") / time.strftime("%Y%m%d-%H%M%S")
                               / scenario.name)
        self.given_stack = stack
        self.stacks = stacks  # a chaos.stack.pool.StackPool shared by a suite, or None
        self.bus = bus or EventBus()
        self.backend = backend

    def run(self) -> RunResult:
        """Run in a fresh event loop; SIGINT/SIGTERM revert the faults, then end the run."""
        return asyncio.run(self.arun(handle_signals=True))

    async def arun(self, handle_signals: bool = False) -> RunResult:
        self.report_dir.mkdir(parents=True, exist_ok=True)
        observed = Observed(self.scenario, plan_phases(self.scenario), started_at=time.time())
        self.bus.subscribe(PhaseSpans(self.scenario.name))
        self.bus.emit(RunStarted(self.scenario.name, self.scenario.profile, self.scenario.seed,
                                 observed.started_at))
        task = asyncio.current_task()
        assert task is not None
        signals = SignalCancel(task) if handle_signals else contextlib.nullcontext()
        try:
            with signals:
                await self._run(observed)
        except StackError as exc:
            observed.error, observed.error_exit_code = f"stack could not start: {exc}", 2
        except asyncio.CancelledError:
            received = getattr(signals, "received", None)
            if received is None:
                raise
            task.uncancel()
            name = signal.Signals(received).name
            observed.error, observed.error_exit_code = f"interrupted by {name}", 128 + received
        except ChaosError as exc:
            observed.error = f"{type(exc).__name__}: {exc}"
        observed.ended_at = observed.ended_at or time.time()
        report = assemble(observed)
        for v in report["verdicts"]:
            self.bus.emit(ExpectationJudged(v["phase"], v["expectation"], v["passed"],
                                            v["message"]))
        paths = write_report(report, self.report_dir)
        self.bus.emit(RunFinished(report["exit_code"], report["duration_s"], observed.error))
        return RunResult(report["exit_code"], report, paths)

    def stack_options(self) -> Any:
        """The StackOptions this scenario's target asks for."""
        from chaos.stack.stack import StackOptions

        target = self.scenario.target
        log_dir = self.report_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        return StackOptions(backend=self.backend, rows=target.rows, auth=target.auth,
                            app_env=target.app_env(), workers=target.workers,
                            jwks_max_age_s=target.auth_options.jwks_max_age_s, log_dir=log_dir)

    @contextlib.asynccontextmanager
    async def _stack(self) -> AsyncIterator[Any]:
        if self.given_stack is not None:
            yield self.given_stack
            return
        from chaos.stack.stack import Stack

        options = self.stack_options()
        stack = None if self.stacks is not None else Stack(options)
        try:
            if stack is None:
                stack = await self.stacks.acquire(options)
            else:
                await stack.start()
        except ChaosError:
            raise
        except Exception as exc:  # whatever broke, the run reports it as "could not start"
            raise StackError(f"{type(exc).__name__}: {exc}") from exc
        try:
            yield stack
        finally:
            if self.stacks is None:
                await stack.stop()

    async def _run(self, o: Observed) -> None:
        from chaos.faults import REGISTRY, FaultContext, clean_leftovers

        async with self._stack() as stack:
            ctx = FaultContext(stack=stack, rng=random.Random(self.scenario.seed))
            # A run killed with SIGKILL could not revert: remove what it left first.
            o.cleaned_leftovers = list(await clean_leftovers(ctx))
            rollback = Rollback(ctx)
            try:
                await self._phases(o, stack, ctx, rollback, REGISTRY)
            finally:
                await rollback.revert_all()
                o.rollback_errors = rollback.errors
                o.ended_at = time.time()
            await self._integrity(o, stack)

    async def _phases(self, o: Observed, stack: Any, ctx: Any, rollback: Rollback,
                      registry: dict[str, Any]) -> None:
        from chaos.load import LoadOptions, LoadProcess

        s = self.scenario
        total_s = o.plan[-1].end_s
        tokens = None
        if s.target.auth and getattr(stack, "issuer", None) is not None:
            count = s.load.distinct_tokens or max(1, s.load.users)
            subjects = await _user_ids(stack, count)
            tokens = await asyncio.to_thread(
                lambda: [stack.issuer.mint(subject=subjects[i % len(subjects)] if subjects
                                           else f"load-user-{i}", ttl_s=3600)
                         for i in range(count)])
        load = LoadProcess(LoadOptions(
            app_url=stack.app_url, users=s.load.users, rate_per_s=s.load.rate_per_s,
            mix=dict(s.load.mix), duration_s=total_s + LOAD_MARGIN_S, seed=s.seed,
            log_path=self.report_dir / "requests.jsonl", tokens=tokens,
            authenticated_share=s.load.authenticated_share, retry_share=s.load.retry_share,
            timeout_s=s.load.timeout_s))
        await asyncio.to_thread(load.start)
        tail = _Tail(self.report_dir / "requests.jsonl", o, self.bus)
        try:
            await asyncio.to_thread(load.wait_started)  # the phase clock starts with the load
            o.t0 = time.time()
            for phase in o.plan:
                await self._phase(phase, o, stack, ctx, rollback, registry, tail, load)
            if getattr(stack, "agent_token", None):  # closes the last phase's telemetry window
                o.telemetry["end"] = await fetch_metrics(stack.app_url, stack.agent_token)
        finally:
            await asyncio.shield(asyncio.to_thread(load.stop))
            tail.read()

    async def _phase(self, phase: PlannedPhase, o: Observed, stack: Any, ctx: Any,
                     rollback: Rollback, registry: dict[str, Any], tail: _Tail, load: Any) -> None:
        assert o.t0 is not None
        self.bus.emit(PhaseStarted(phase.name, phase.kind, phase.start_s, phase.duration_s))
        if getattr(stack, "agent_token", None):
            o.telemetry[phase.name] = await fetch_metrics(stack.app_url, stack.agent_token)
        pending = [(planned, registry[planned.spec.type](planned.spec), {"phase": phase.name})
                   for planned in phase.faults]
        active: list[tuple[Any, Any, dict[str, Any]]] = []
        while (now := time.time() - o.t0) < phase.end_s:
            for item in [p for p in pending if p[0].at_s <= now]:
                pending.remove(item)
                planned, fault, entry = item
                entry.update(type=planned.spec.type, params=planned.spec.model_dump(mode="json"),
                             applied_s=round(now, 3), reverted_s=None, evidence=None)
                o.faults.append(entry)
                await rollback.apply(fault)
                active.append(item)
                self.bus.emit(FaultApplied(phase.name, fault.type, entry["params"], now))
            # Faults ending together are reverted last-applied first, like nested contexts: a
            # probe applied after the fault it watches stops before that fault is undone.
            for item in reversed([a for a in active if a[0].end_s <= now]):
                active.remove(item)
                await self._revert(item, o, ctx, rollback, phase.name)
            if load.returncode is not None:
                raise ChaosError(f"the load generator exited early ({load.returncode}): "
                                 f"{load.output()[-2000:]}")
            tail.read()
            await asyncio.sleep(min(TICK_S, max(0.0, phase.end_s - now)))
        for item in reversed(active):
            await self._revert(item, o, ctx, rollback, phase.name)

    async def _revert(self, item: tuple[Any, Any, dict[str, Any]], o: Observed, ctx: Any,
                      rollback: Rollback, phase: str) -> None:
        _, fault, entry = item
        try:  # evidence while the fault is still in place: toxics and sessions vanish on revert
            evidence = await fault.evidence(ctx)
            entry["evidence"] = {"fired": bool(evidence.fired), "details": evidence.details,
                                 "checks": [check.as_dict() for check in evidence.checks]}
        except Exception as exc:
            entry["evidence"] = {"fired": False, "details": {"error": str(exc)}, "checks": []}
        await rollback.revert(fault)
        try:  # checks only measurable once the fault is gone
            entry["evidence"]["checks"] += [c.as_dict() for c in await fault.settle(ctx)]
        except Exception as exc:  # noqa: BLE001 - reported as a failed check
            entry["evidence"]["checks"].append(
                {"name": "settle", "passed": False, "message": f"{type(exc).__name__}: {exc}"})
        assert o.t0 is not None
        entry["reverted_s"] = round(time.time() - o.t0, 3)
        self.bus.emit(FaultReverted(phase, fault.type, entry["reverted_s"],
                                    entry["evidence"]["fired"], entry["evidence"]["details"]))

    async def _integrity(self, o: Observed, stack: Any) -> None:
        from chaos.integrity import check_integrity

        if not getattr(stack, "admin_db_url", None):
            return
        result = await asyncio.to_thread(check_integrity, o.records, stack.admin_db_url)
        o.integrity = result.as_dict()


async def _user_ids(stack: Any, count: int) -> list[str]:
    """Ids of the blog's users, so signed-in requests (``me``) are about a real user."""
    import psycopg

    if not getattr(stack, "admin_db_url", None):
        return []
    async with await psycopg.AsyncConnection.connect(stack.admin_db_url) as conn:
        rows = await (await conn.execute("SELECT id::text FROM tb_user ORDER BY id LIMIT %s",
                                         (count,))).fetchall()
    return [row[0] for row in rows]


class _Tail:
    """Reads new lines of the request log into the run and announces them as one event."""

    def __init__(self, path: Path, observed: Observed, bus: EventBus) -> None:
        self.path, self.observed, self.bus, self.offset = path, observed, bus, 0

    def read(self) -> None:
        from chaos.load import read_log

        if not self.path.exists():
            return
        records, self.offset = read_log(self.path, self.offset)
        if records:
            self.observed.records.extend(records)
            self.bus.emit(RequestsLogged(records))
