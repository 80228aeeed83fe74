"""The chaos agent's view of the app's OpenTelemetry data, read through the SDK.

``AgentTelemetry.install()`` gives the process an SDK meter provider with an in-memory
reader (when no SDK provider was installed before: OpenTelemetry never replaces one) and
a span processor that counts finished spans by name (added to an existing SDK tracer
provider, or to a new one). ``snapshot()`` is what ``GET /_chaos/metrics`` returns.

Example::

    telemetry = AgentTelemetry.install()
    telemetry.snapshot()
    # {"metrics_enabled": True, "metrics": {"fraiseql.request.duration": [...]},
    #  "spans": {"graphql.request": 12, "db.query": 30}}
"""

from __future__ import annotations

import collections
import threading
from dataclasses import asdict, is_dataclass
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider

from fraiseql import otlp
from fraiseql import telemetry as runtime_telemetry


class SpanCounter(SpanProcessor):
    """Counts finished spans by name (no span is kept)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: collections.Counter[str] = collections.Counter()

    def on_end(self, span: ReadableSpan) -> None:
        with self._lock:
            self.counts[span.name] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self.counts)


class AgentTelemetry:
    """The in-memory metric reader (or None) and the span counter the agent reads."""

    def __init__(self, reader: InMemoryMetricReader | None, spans: SpanCounter) -> None:
        self.reader = reader
        self.spans = spans

    @classmethod
    def install(cls) -> AgentTelemetry:
        reader: InMemoryMetricReader | None = None
        if not runtime_telemetry.metrics_enabled():
            # One provider for the agent's reader and, when configured, the OTLP exporter
            # (a provider's readers are fixed when it is made).
            reader = InMemoryMetricReader()
            metrics.set_meter_provider(MeterProvider(metric_readers=[reader, *otlp.metric_readers()]))
        spans = SpanCounter()
        provider = trace.get_tracer_provider()
        if not isinstance(provider, TracerProvider):
            provider = TracerProvider()
            for processor in otlp.span_processors():
                provider.add_span_processor(processor)
            trace.set_tracer_provider(provider)
        provider.add_span_processor(spans)
        return cls(reader, spans)

    def snapshot(self) -> dict[str, Any]:
        """Cumulative metric points by instrument name, and span counts by span name."""
        found: dict[str, list[dict[str, Any]]] = {}
        data = self.reader.get_metrics_data() if self.reader is not None else None
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    points = found.setdefault(metric.name, [])
                    points.extend(_point(p) for p in metric.data.data_points)
        return {"metrics_enabled": self.reader is not None, "metrics": found, "spans": self.spans.snapshot()}


def _point(point: Any) -> dict[str, Any]:
    fields = asdict(point) if is_dataclass(point) else {}
    fields.pop("exemplars", None)
    fields["attributes"] = dict(point.attributes or {})
    return {key: list(value) if isinstance(value, tuple) else value for key, value in fields.items()}
