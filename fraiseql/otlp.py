"""OTLP export: the app's spans and metrics sent to a collector when one is configured.

The runtime records with the OpenTelemetry API only (``fraiseql.telemetry``); with no SDK
installed that costs nothing. When ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (the standard
variable; ``OTEL_EXPORTER_OTLP_*`` and ``OTEL_SERVICE_NAME`` are read by the exporters and
the SDK as usual), ``create_app`` installs the SDK's tracer and meter providers with
OTLP/HTTP exporters, unless the process installed providers of its own. The exporters come
from the ``otlp`` extra (``pip install 'fraiseql[otlp]'``); without them a warning says so and
nothing is exported.

Example::

    OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 uvicorn examples.blog.app:app
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

logger = logging.getLogger("fraiseql.otlp")

ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_ENDPOINT"
METRIC_INTERVAL_MS = 5_000  # unless OTEL_METRIC_EXPORT_INTERVAL says otherwise


def endpoint(environ: Mapping[str, str] | None = None) -> str | None:
    value = (os.environ if environ is None else environ).get(ENDPOINT_ENV, "").strip()
    return value or None


def _exporters() -> tuple[Any, Any] | None:
    try:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError:
        logger.warning("%s is set but the OTLP exporter is not installed "
                       "(pip install 'fraiseql[otlp]'): nothing is exported", ENDPOINT_ENV)
        return None
    return OTLPSpanExporter, OTLPMetricExporter


def metric_readers(environ: Mapping[str, str] | None = None) -> list[Any]:
    """A periodic OTLP metric reader when an endpoint is configured (for a MeterProvider)."""
    exporters = _exporters() if endpoint(environ) else None
    if exporters is None:
        return []
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    env = os.environ if environ is None else environ
    interval_ms = float(env.get("OTEL_METRIC_EXPORT_INTERVAL") or METRIC_INTERVAL_MS)
    return [PeriodicExportingMetricReader(exporters[1](), export_interval_millis=interval_ms)]


def span_processors(environ: Mapping[str, str] | None = None) -> list[Any]:
    """A batching OTLP span processor when an endpoint is configured (for a TracerProvider)."""
    exporters = _exporters() if endpoint(environ) else None
    if exporters is None:
        return []
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    return [BatchSpanProcessor(exporters[0]())]


def install_from_environment(environ: Mapping[str, str] | None = None) -> bool:
    """Install SDK providers exporting over OTLP, when configured and none is installed.
    True when something was installed."""
    if endpoint(environ) is None:
        return False
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    from fraiseql import telemetry

    installed = False
    resource = Resource.create()  # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES
    if not telemetry.tracing_enabled():
        processors = span_processors(environ)
        if processors:
            provider = TracerProvider(resource=resource)
            for processor in processors:
                provider.add_span_processor(processor)
            trace.set_tracer_provider(provider)
            installed = True
    if not telemetry.metrics_enabled():
        readers = metric_readers(environ)
        if readers:
            metrics.set_meter_provider(MeterProvider(metric_readers=readers, resource=resource))
            installed = True
    return installed
