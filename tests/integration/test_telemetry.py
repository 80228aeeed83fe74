"""OpenTelemetry: spans and metrics for request, parse, database and pipeline, once an SDK listens."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from examples.blog import app as blog
from fraiseql import telemetry
from fraiseql.config import FraiseQLConfig
from fraiseql.http import create_app

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


def test_without_an_sdk_no_span_is_created(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(telemetry, "tracing_enabled", lambda: False)
    with telemetry.span("anything") as current:
        assert current is None
