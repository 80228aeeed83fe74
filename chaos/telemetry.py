"""Server-side telemetry: the app's OpenTelemetry metrics, read through the chaos agent.

The app records metrics with the OpenTelemetry API; the agent installs an in-memory SDK
reader and serves it at GET /_chaos/metrics, so the harness needs no metrics library of its
own. A snapshot is taken at every phase boundary; the report keeps them per phase. When
OTEL_EXPORTER_OTLP_ENDPOINT is set and the OTLP exporter package is installed, the run's
phases are also exported as spans to that collector.

Example::

    snapshot = await fetch_metrics(stack.app_url, token)
"""

from __future__ import annotations

import logging
import os
from typing import Any

import httpx

from chaos.events import Event, PhaseStarted, RunFinished

logger = logging.getLogger("chaos.telemetry")


async def fetch_metrics(app_url: str, token: str, timeout_s: float = 2.0) -> dict[str, Any] | None:
    """The agent's metrics document, or None when the agent does not answer (logged)."""
    try:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            response = await client.get(f"{app_url}/_chaos/metrics",
                                        headers={"Authorization": f"Bearer {token}"})
            response.raise_for_status()
            return response.json()
    except (httpx.HTTPError, ValueError) as exc:
        logger.warning("could not read the app's metrics: %s", exc)
        return None


class PhaseSpans:
    """A listener exporting one span per phase over OTLP, when a collector is configured."""

    def __init__(self, scenario: str) -> None:
        self.scenario = scenario
        self.tracer = _otlp_tracer()
        self.span: Any = None

    @property
    def enabled(self) -> bool:
        return self.tracer is not None

    def __call__(self, event: Event) -> None:
        if self.tracer is None:
            return
        if isinstance(event, (PhaseStarted, RunFinished)) and self.span is not None:
            self.span.end()
            self.span = None
        if isinstance(event, PhaseStarted):
            self.span = self.tracer.start_span(
                f"chaos.phase {event.name}",
                attributes={"chaos.scenario": self.scenario, "chaos.phase.kind": event.kind},
            )


def _otlp_tracer() -> Any:
    if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return None
    try:  # optional integration, imported only when used
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        logger.warning("OTEL_EXPORTER_OTLP_ENDPOINT is set but the OTLP exporter is not installed")
        return None
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider.get_tracer("chaos")
