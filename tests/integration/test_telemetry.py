"""OpenTelemetry: spans and metrics for request, parse, database and pipeline, once an SDK listens."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from examples.blog import app as blog
from fraiseql import faults, telemetry
from fraiseql.config import FraiseQLConfig
from fraiseql.http import create_app
from fraiseql.http.shedding import InFlight

from .conftest import serve_in_thread

pytestmark = pytest.mark.integration

_SPANS = InMemorySpanExporter()
_METRICS = InMemoryMetricReader()


@pytest.fixture(scope="module")
def sdk() -> tuple[InMemorySpanExporter, InMemoryMetricReader]:
    """Install the SDK once per process (OpenTelemetry refuses to replace a provider)."""
    if not telemetry.tracing_enabled():
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(_SPANS))
        trace.set_tracer_provider(provider)
        metrics.set_meter_provider(MeterProvider(metric_readers=[_METRICS]))
    return _SPANS, _METRICS


def _metric_points(reader: InMemoryMetricReader) -> dict[str, list]:
    found: dict[str, list] = {}
    data = reader.get_metrics_data()
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                found.setdefault(metric.name, []).extend(metric.data.data_points)
    return found


def test_a_request_is_traced_and_measured(
    sdk: tuple[InMemorySpanExporter, InMemoryMetricReader], blog_database_url: str
) -> None:
    spans, reader = sdk
    assert telemetry.tracing_enabled() and telemetry.metrics_enabled()
    app = create_app(schema=blog.schema, database_url=blog_database_url,
                     config=FraiseQLConfig(cache_enabled=False))
    for running in serve_in_thread(app):
        ok = httpx.post(f"{running.url}/graphql", json={"query": "{ posts(limit: 2) { id } telemetryProbe: postCount }"})
        assert ok.status_code == 200
        bad = httpx.post(f"{running.url}/graphql", json={"query": "{ nope }"})
        assert bad.status_code == 400
    names = [span.name for span in spans.get_finished_spans()]
    for expected in ("graphql.request", "graphql.parse", "db.query", "pipeline.build"):
        assert expected in names, names
    points = _metric_points(reader)
    assert sum(p.count for p in points["fraiseql.request.duration"]) >= 2
    assert sum(p.count for p in points["fraiseql.db.query.duration"]) >= 2
    codes = {dict(p.attributes)["code"]: p.value for p in points["fraiseql.errors"]}
    assert codes.get("GRAPHQL_VALIDATION_FAILED", 0) >= 1
    statuses = {dict(p.attributes)["http.status_code"] for p in points["fraiseql.request.duration"]}
    assert {200, 400} <= statuses


def test_retries_the_breaker_and_shedding_are_measured(
    sdk: tuple[InMemorySpanExporter, InMemoryMetricReader], blog_database_url: str
) -> None:
    _, reader = sdk
    config = FraiseQLConfig(cache_enabled=False, breaker_failure_threshold=1, breaker_reset_s=60)
    app = create_app(schema=blog.schema, database_url=blog_database_url, config=config)
    aborted = []

    def abort_once(payload: object, context: dict) -> None:
        if not aborted:
            aborted.append(1)
            raise psycopg.errors.SerializationFailure("injected 40001")

    def refuse(payload: object, context: dict) -> None:
        raise ConnectionRefusedError("injected: connection refused")

    for running in serve_in_thread(app):
        url = f"{running.url}/graphql"
        with installed("db.execute", abort_once):
            assert httpx.post(url, json={"query": "{ posts(limit: 1) { id } }"}).status_code == 200
        with installed("db.connect", refuse):
            statuses = [httpx.post(url, json={"query": "{ posts(limit: 1) { id } }"}).status_code for _ in range(2)]
        assert statuses == [503, 503]
        points = _metric_points(reader)  # read while the circuit is still open
    shed = InFlight(max_in_flight=1)
    assert shed.admit() and not shed.admit()
    after = _metric_points(reader)

    retries = {dict(p.attributes)["reason"]: p.value for p in points["fraiseql.db.read_retries"]}
    assert retries.get("transient", 0) >= 1
    transitions = {dict(p.attributes)["state"]: p.value for p in points["fraiseql.db.circuit.transitions"]}
    assert transitions.get("open", 0) >= 1
    assert sum(p.value for p in points["fraiseql.db.circuit.rejected"]) >= 1
    gauge = [p.value for p in points["fraiseql.db.circuit.state"] if dict(p.attributes) == {"db.name": "main"}]
    assert gauge == [2]  # open
    assert sum(p.value for p in after["fraiseql.requests.shed"]) >= 1


@contextlib.contextmanager
def installed(point: str, hook: object) -> Iterator[None]:
    handle = faults.install(point, hook)  # type: ignore[arg-type]
    try:
        yield
    finally:
        faults.remove(handle)


# Runs in a fresh interpreter: this process may already have an SDK installed (above),
# and OpenTelemetry never uninstalls one. Nothing is patched: a profiler *watches* every
# Python call made while the real app answers real requests over the blog database.
NO_SDK_PROBE = r"""
import asyncio, collections, json, sys

import httpx
from opentelemetry import context, metrics, trace
from opentelemetry.metrics._internal import _ProxyMeterProvider
from opentelemetry.trace import ProxyTracerProvider

from examples.blog import app as blog
from fraiseql import telemetry
from fraiseql.config import FraiseQLConfig
from fraiseql.http import create_app

calls = collections.Counter()

def watch(frame, event, arg):
    if event == "call":
        name = frame.f_code.co_filename
        if "/opentelemetry/" in name or name.endswith("fraiseql/telemetry.py"):
            calls[("otel" if "/opentelemetry/" in name else "fraiseql") + ":" + frame.f_code.co_qualname] += 1

async def main():
    app = create_app(schema=blog.schema, database_url=sys.argv[1], config=FraiseQLConfig(cache_enabled=False))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://blog.test") as client:
            queries = ["{ posts(limit: 2) { id author { name } } postCount }", "{ nope }"]
            await client.post("/graphql", json={"query": queries[0]})  # warm: imports, pools
            outside = context.get_current()
            sys.setprofile(watch)
            statuses = [(await client.post("/graphql", json={"query": q})).status_code for q in queries]
            with telemetry.span("probe") as probe:
                sys.setprofile(None)  # the probe's own look at the context is not counted
                inside = context.get_current()
    print(json.dumps({
        "proxy_tracer": isinstance(trace.get_tracer_provider(), ProxyTracerProvider),
        "proxy_meter": isinstance(metrics.get_meter_provider(), _ProxyMeterProvider),
        "statuses": statuses,
        "probe_is_none": probe is None,
        "context_untouched": inside is outside,
        "calls": {k: v for k, v in calls.items()},
    }))

asyncio.run(main())
"""


def _run_fresh(probe: str, *args: str, **environment: str) -> dict:
    """Run ``probe`` in a fresh interpreter (no OTEL_* variables but ``environment``);
    the JSON report it prints last."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(environment)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "-c", probe, *args],
                          capture_output=True, text=True, timeout=120, env=env, cwd=root)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


# Put into a probe: counts the calls of the SDK function named WATCHED while
# ``sys.setprofile(watch)`` is on.
CALL_COUNTER = r"""
calls = [0]

def watch(frame, event, arg):
    if event == "call" and frame.f_code.co_qualname == WATCHED \
            and "/opentelemetry/sdk/" in frame.f_code.co_filename:
        calls[0] += 1
"""


def test_without_an_sdk_no_span_or_metric_is_made(blog_database_url: str) -> None:
    report = _run_fresh(NO_SDK_PROBE, blog_database_url)
    assert report["proxy_tracer"] and report["proxy_meter"]  # the API's defaults: no SDK
    assert report["statuses"] == [200, 400]
    assert report["probe_is_none"] and report["context_untouched"]  # no span, none made current
    calls = report["calls"]
    # The requests did go through fraiseql.telemetry (the profiler sees it) ...
    assert calls.get("fraiseql:span", 0) >= 3 and calls.get("fraiseql:record_request", 0) == 2
    # ... and the only OpenTelemetry code that ran asked which provider is installed:
    # no tracer, span, context, instrument or attribute code at all.
    otel = {name for name in calls if name.startswith("otel:")}
    assert otel <= {"otel:get_tracer_provider", "otel:get_meter_provider"}, sorted(otel)


# A fresh interpreter with the SDK configured from the environment, as an operator would:
# OTEL_TRACES_SAMPLER chooses how many requests are traced.
SAMPLED_PROBE = r"""
import asyncio, json, sys

import httpx
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from examples.blog import app as blog
from fraiseql.config import FraiseQLConfig
from fraiseql.http import create_app

spans, reader = InMemorySpanExporter(), InMemoryMetricReader()
provider = TracerProvider()  # its sampler comes from OTEL_TRACES_SAMPLER(_ARG)
provider.add_span_processor(SimpleSpanProcessor(spans))
trace.set_tracer_provider(provider)
metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))

WATCHED = "Tracer.start_span"  # spans made, recording or not
""" + CALL_COUNTER + r"""

async def main():
    app = create_app(schema=blog.schema, database_url=sys.argv[1], config=FraiseQLConfig(cache_enabled=False))
    async with app.router.lifespan_context(app):
        spans.clear()  # start-up's own statements are traces of their own
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://blog.test") as client:
            sys.setprofile(watch)
            for _ in range(int(sys.argv[2])):
                response = await client.post("/graphql", json={"query": "{ posts(limit: 2) { id } }"})
                assert response.status_code == 200, response.text
            sys.setprofile(None)
    finished = spans.get_finished_spans()
    roots = {s.context.trace_id for s in finished if s.name == "graphql.request"}
    data = reader.get_metrics_data()
    recorded = sum(p.count for r in data.resource_metrics for sc in r.scope_metrics
                   for m in sc.metrics if m.name == "fraiseql.request.duration" for p in m.data.data_points)
    print(json.dumps({
        "sampler": type(provider.sampler).__name__,
        "traced_requests": len(roots),
        "root_trace_ids_low_64": [trace_id & (2**64 - 1) for trace_id in roots],
        "orphans": sum(1 for s in finished if s.context.trace_id not in roots),
        "children": sum(1 for s in finished if s.name in ("db.query", "pipeline.build")),
        "others": sum(1 for s in finished if s.name not in ("graphql.request", "db.query", "pipeline.build")),
        "request_measurements": recorded,
        "spans_started": calls[0],
    }))

asyncio.run(main())
"""


@pytest.mark.parametrize(("sampler", "arg", "traced"), [
    ("parentbased_always_off", "", (0, 0)),
    ("parentbased_traceidratio", "0.25", (1, 39)),  # about 10 of 40, seeded by random trace ids
    ("parentbased_always_on", "", (40, 40)),
])
def test_a_sampler_chooses_the_traced_requests_and_metrics_count_them_all(
    blog_database_url: str, sampler: str, arg: str, traced: tuple[int, int]
) -> None:
    report = _run_fresh(SAMPLED_PROBE, blog_database_url, "40",
                        OTEL_TRACES_SAMPLER=sampler, OTEL_TRACES_SAMPLER_ARG=arg)
    assert report["sampler"].startswith("ParentBased")  # the environment was read
    low, high = traced
    assert low <= report["traced_requests"] <= high, report
    # A traced request has its spans under it; one sampled out has none anywhere.
    assert report["orphans"] == 0
    assert report["children"] == 2 * report["traced_requests"], report
    assert report["request_measurements"] == 40  # metrics are not sampled
    # A request that was sampled out starts no span at all, not even its root: the SDK's
    # samplers here decide a root by its trace id alone, so FraiseQL decides before asking.
    # (``others``: the first request's graphql.parse, when that request was traced.)
    if sampler == "parentbased_always_on":  # nothing to decide early: the SDK makes each root
        assert report["spans_started"] == 40 + report["children"] + report["others"], report
    else:
        assert report["spans_started"] == report["traced_requests"] + report["children"] + report["others"], report
    assert report["others"] <= 1, report
    # A traced root carries the trace id its sampling was decided on (the SDK's rule:
    # its low 64 bits below rate * 2**64).
    if arg:
        assert all(low < float(arg) * 2**64 for low in report["root_trace_ids_low_64"]), report


# A fresh interpreter whose providers FraiseQL installs itself (as OTLP export does): the
# request and statement histograms are aggregated in process and reach the exporter.
INSTALLED_PROBE = r"""
import asyncio, json, sys

import httpx
from opentelemetry import metrics
from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from examples.blog import app as blog
from fraiseql import otlp
from fraiseql.config import FraiseQLConfig
from fraiseql.http import create_app

class Keep(MetricExporter):
    def __init__(self):
        super().__init__()
        self.exports = []
    def export(self, metrics_data, timeout_millis=10_000, **kwargs):
        self.exports.append(metrics_data)
        return MetricExportResult.SUCCESS
    def force_flush(self, timeout_millis=10_000):
        return True
    def shutdown(self, timeout_millis=30_000, **kwargs):
        return None

spans, kept = InMemorySpanExporter(), Keep()
assert otlp.install(spans, kept)
WATCHED = "Histogram.record"  # whoever calls it
""" + CALL_COUNTER + r"""

async def main():
    app = create_app(schema=blog.schema, database_url=sys.argv[1], config=FraiseQLConfig(cache_enabled=False))
    async with app.router.lifespan_context(app):
        metrics.get_meter_provider().force_flush()
        before = len(kept.exports)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://blog.test") as client:
            sys.setprofile(watch)
            for _ in range(int(sys.argv[2])):
                response = await client.post("/graphql", json={"query": "{ posts(limit: 2) { id } }"})
                assert response.status_code == 200, response.text
            response = await client.post("/graphql", json={"query": "{ nope }"})
            sys.setprofile(None)
        metrics.get_meter_provider().force_flush()
    found = {}
    for data in kept.exports[before:][-1:]:
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    found.setdefault(metric.name, []).append(
                        (scope.scope.name, type(metric.data).__name__,
                         [[dict(p.attributes), getattr(p, "count", None)] for p in metric.data.data_points]))
    print(json.dumps({"metrics": found, "sdk_histogram_records": calls[0]}))

asyncio.run(main())
"""


def test_installed_providers_export_the_histograms_kept_in_process(blog_database_url: str) -> None:
    report = _run_fresh(INSTALLED_PROBE, blog_database_url, "12")
    found = report["metrics"]
    # Once each, in the runtime's scope, as histograms, with the attributes of the SDK path.
    [(scope, kind, points)] = found["fraiseql.request.duration"]
    assert (scope, kind) == ("fraiseql", "Histogram")
    by_status = {(p[0]["graphql.operation.type"], p[0]["http.status_code"]): p[1] for p in points}
    assert by_status[("query", 200)] == 12 and by_status[("query", 400)] == 1, by_status
    [(scope, kind, points)] = found["fraiseql.db.query.duration"]
    assert (scope, kind) == ("fraiseql", "Histogram") and points[0][1] >= 12
    assert "fraiseql.errors" in found  # the SDK's own instruments are exported beside them
    # No request went through the SDK's histogram record.
    assert report["sdk_histogram_records"] == 0, report
