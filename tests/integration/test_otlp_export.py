"""OTLP export from a real app process to an OTLP/HTTP receiver: the protobuf it sends
decodes to the runtime's spans and metrics."""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
import time
from collections.abc import Iterator

import httpx
import port_for
import pytest
import uvicorn
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from chaos.stack.app import AppProcess
from examples.blog.database import init_database
from fraiseql.db.local import LocalPostgres

pytestmark = pytest.mark.integration


class Receiver:
    """An OTLP/HTTP endpoint that decodes what it is sent (what a collector does first)."""

    def __init__(self) -> None:
        self.span_names: list[str] = []
        self.metric_names: set[str] = set()
        self.services: set[str] = set()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["path"] == "/v1/traces":
            request = ExportTraceServiceRequest.FromString(body)
            for resource in request.resource_spans:
                self.services |= {a.value.string_value for a in resource.resource.attributes
                                  if a.key == "service.name"}
                self.span_names += [s.name for scope_spans in resource.scope_spans for s in scope_spans.spans]
        elif scope["path"] == "/v1/metrics":
            request = ExportMetricsServiceRequest.FromString(body)
            self.metric_names |= {m.name for r in request.resource_metrics
                                  for scope_metrics in r.scope_metrics for m in scope_metrics.metrics}
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/x-protobuf")]})
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    app, port = Receiver(), port_for.select_random()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield app, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_the_app_exports_its_spans_and_metrics_over_otlp(pg_cluster: LocalPostgres, receiver) -> None:
    sink, url = receiver
    database = pg_cluster.create_database(f"otlp_{os.getpid()}_{secrets.token_hex(3)}")
    asyncio.run(init_database(database, rows=5, progress=None))
    app = AppProcess({"DATABASE_URL": database, "OTEL_EXPORTER_OTLP_ENDPOINT": url,
                      "OTEL_SERVICE_NAME": "blog-under-test", "OTEL_BSP_SCHEDULE_DELAY": "100",
                      "OTEL_METRIC_EXPORT_INTERVAL": "300"})
    asyncio.run(app.start())
    try:
        for _ in range(3):
            httpx.post(f"{app.url}/graphql", json={"query": "{ posts(limit: 2) { id } }"}, timeout=10)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (
                "graphql.request" in sink.span_names and "fraiseql.request.duration" in sink.metric_names):
            time.sleep(0.1)
    finally:
        asyncio.run(app.stop())
    assert sink.span_names.count("graphql.request") >= 3
    assert "fraiseql.request.duration" in sink.metric_names
    assert sink.services == {"blog-under-test"}
