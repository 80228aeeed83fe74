"""The blog example (``examples.blog.app``) as the benchmark serves it.

The same schema and ``create_app`` as the example, with the result cache off (the other
servers have no result cache; every request reaches PostgreSQL) and no auth provider.
With ``E2E_TELEMETRY=1`` an OpenTelemetry SDK is installed first (tracer and meter
providers whose exporters drop everything), so the runtime's spans and metrics are
really created and recorded: the telemetry-overhead measurement. ``E2E_TELEMETRY=traces``
or ``metrics`` installs one of the two providers (to split the cost).

Run::

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/blog \\
        python -m uvicorn --app-dir benchmarks/e2e fraiseql_app:app --port 8000
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from examples.blog.app import schema
from fraiseql import otlp
from fraiseql.config import FraiseQLConfig
from fraiseql.http import create_app


def install_noop_telemetry(signals: str = "all") -> None:
    """SDK providers with exporters that drop what they get: the cost of instrumentation.
    ``signals``: "all", "traces" or "metrics" (which providers to install). They are
    installed as the runtime installs them for OTLP export (``fraiseql.otlp.install``)."""
    from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

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

    otlp.install(DropSpans() if signals in ("all", "traces") else None,
                 DropMetrics() if signals in ("all", "metrics") else None)


_TELEMETRY = os.environ.get("E2E_TELEMETRY", "0")
if _TELEMETRY != "0":
    install_noop_telemetry({"1": "all"}.get(_TELEMETRY, _TELEMETRY))

app = create_app(schema=schema, config=FraiseQLConfig(cache_enabled=False, graphiql=False))
