"""The blog example (``examples.blog.app``) as the benchmark serves it.

The same schema and ``create_app`` as the example, with the result cache off (the other
servers have no result cache; every request reaches PostgreSQL) and no auth provider.
With ``E2E_TELEMETRY=1`` an OpenTelemetry SDK is installed first (tracer and meter
providers whose exporters drop everything), so the runtime's spans and metrics are
really created and recorded: the telemetry-overhead measurement.

Run::

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/blog \\
        python -m uvicorn --app-dir benchmarks/e2e fraiseql_app:app --port 8000
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from examples.blog.app import schema
from fraiseql.config import FraiseQLConfig
from fraiseql.http import create_app


def install_noop_telemetry() -> None:
    """SDK providers with exporters that drop what they get: the cost of instrumentation."""
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import (
        MetricExporter,
        MetricExportResult,
        PeriodicExportingMetricReader,
    )
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    class DropSpans(SpanExporter):
        def export(self, spans: Sequence[object]) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    class DropMetrics(MetricExporter):
        def export(self, metrics_data, timeout_millis: float = 10_000, **kwargs) -> MetricExportResult:
            return MetricExportResult.SUCCESS

        def force_flush(self, timeout_millis: float = 10_000) -> bool:
            return True

        def shutdown(self, timeout_millis: float = 30_000, **kwargs) -> None:
            return None

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(DropSpans()))
    trace.set_tracer_provider(tracer_provider)
    reader = PeriodicExportingMetricReader(DropMetrics(), export_interval_millis=5_000)
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))


if os.environ.get("E2E_TELEMETRY") == "1":
    install_noop_telemetry()

app = create_app(schema=schema, config=FraiseQLConfig(cache_enabled=False, graphiql=False))
