"""Telemetry with no SDK installed costs one global read per call, and notices an SDK
installed later. Run in a fresh interpreter: OpenTelemetry's providers are set once per process."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from fraiseql import telemetry

    with telemetry.span("graphql.request") as span:
        assert span is None, span  # nobody listens: nothing is made
    telemetry.record_request(1.0, "query", 200)
    assert telemetry._meters() is None

    exporter, reader = InMemorySpanExporter(), InMemoryMetricReader()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
    with telemetry.span("graphql.request"):
        pass
    telemetry.record_request(1.0, "query", 200)
    assert [s.name for s in exporter.get_finished_spans()] == ["graphql.request"]
    names = [m.name for rm in reader.get_metrics_data().resource_metrics
             for sm in rm.scope_metrics for m in sm.metrics]
    assert "fraiseql.request.duration" in names, names
    print("ok")
""")


def test_spans_and_metrics_start_once_an_sdk_is_installed() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
