"""OpenTelemetry instrumentation of the runtime.

The runtime talks only to the OpenTelemetry *API*. With no SDK configured,
``opentelemetry.trace`` and ``metrics`` hand out proxy objects; we detect that and skip
span creation altogether, so an uninstrumented server pays one ``isinstance`` per call.
Once an application (or the harness) installs an SDK provider, spans and metrics flow:

- spans: ``graphql.request``, ``graphql.parse``, ``db.query``, ``pipeline.build``,
  ``cache.get``, ``auth.validate``
- histograms: ``fraiseql.request.duration`` and ``fraiseql.db.query.duration`` (ms)
- counters: ``fraiseql.errors`` by ``code``; ``fraiseql.cache.requests`` by ``result``

Example::

    with telemetry.span("db.query", {"db.sql.table": "v_post"}):
        rows = await run()
    telemetry.record_query(duration_ms=1.7)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.metrics import _internal as _metrics_internal
from opentelemetry.trace import ProxyTracerProvider

INSTRUMENTATION_NAME = "fraiseql"

_tracer = trace.get_tracer(INSTRUMENTATION_NAME)
_meter = metrics.get_meter(INSTRUMENTATION_NAME)
_request_duration = _meter.create_histogram(
    "fraiseql.request.duration", unit="ms", description="GraphQL request duration"
)
_query_duration = _meter.create_histogram(
    "fraiseql.db.query.duration", unit="ms", description="Database statement duration"
)
_errors = _meter.create_counter("fraiseql.errors", description="Errors by GraphQL code")
_cache_requests = _meter.create_counter(
    "fraiseql.cache.requests", description="Result cache lookups by result"
)


def tracing_enabled() -> bool:
    """True once an SDK tracer provider is installed (the proxy means nobody listens)."""
    return not isinstance(trace.get_tracer_provider(), ProxyTracerProvider)


def metrics_enabled() -> bool:
    """True once an SDK meter provider is installed."""
    return not isinstance(metrics.get_meter_provider(), _metrics_internal._ProxyMeterProvider)


@contextlib.contextmanager
def span(name: str, attributes: Mapping[str, Any] | None = None) -> Iterator[Any]:
    """A span named ``name`` when tracing is on; nothing at all when it is off."""
    if not tracing_enabled():
        yield None
        return
    with _tracer.start_as_current_span(name, attributes=attributes) as current:
        yield current


def record_request(duration_ms: float, operation: str, status: int) -> None:
    if metrics_enabled():
        _request_duration.record(
            duration_ms, {"graphql.operation.type": operation, "http.status_code": status}
        )


def record_query(duration_ms: float) -> None:
    if metrics_enabled():
        _query_duration.record(duration_ms)


def record_error(code: str) -> None:
    if metrics_enabled():
        _errors.add(1, {"code": code})


def record_cache(result: str) -> None:
    if metrics_enabled():
        _cache_requests.add(1, {"result": result})


# -- resilience: retries, the circuit breaker, load shedding, stale reads -----------------
# counters: fraiseql.db.read_retries by reason; fraiseql.db.circuit.transitions by
# db.name and state (the state entered); fraiseql.db.circuit.rejected by db.name;
# fraiseql.requests.shed by reason; fraiseql.cache.stale_served.
# gauges (observed at collection): fraiseql.db.circuit.state (0 closed, 1 half-open,
# 2 open) by db.name; fraiseql.requests.in_flight.

_read_retries = _meter.create_counter(
    "fraiseql.db.read_retries", description="Reads retried after a transient database failure"
)
_circuit_transitions = _meter.create_counter(
    "fraiseql.db.circuit.transitions", description="Circuit breaker state changes by state entered"
)
_circuit_rejected = _meter.create_counter(
    "fraiseql.db.circuit.rejected", description="Database calls failed fast by an open circuit"
)
_shed = _meter.create_counter("fraiseql.requests.shed", description="Requests refused by load shedding")
_stale_served = _meter.create_counter(
    "fraiseql.cache.stale_served", description="Responses served stale from the cache while the database failed"
)

# name -> callable returning [(value, attributes)]; read by the observable gauges below.
_gauge_sources: dict[str, dict[str, Any]] = {"circuit": {}, "in_flight": {}}


def _observe(kind: str) -> Any:
    def callback(options: Any) -> list[metrics.Observation]:
        return [metrics.Observation(read(), attributes) for attributes, read in _gauge_sources[kind].values()]

    return callback


_meter.create_observable_gauge(
    "fraiseql.db.circuit.state", callbacks=[_observe("circuit")],
    description="Circuit breaker state: 0 closed, 1 half-open, 2 open",
)
_meter.create_observable_gauge(
    "fraiseql.requests.in_flight", callbacks=[_observe("in_flight")],
    description="GraphQL requests being executed",
)


def observe_gauge(kind: str, key: str, read: Any, attributes: Mapping[str, Any] | None = None) -> None:
    """Report ``read()`` on the ``kind`` gauge ("circuit" or "in_flight") under ``key``.

    A later call with the same key replaces the earlier source (one app per process
    in production; tests create many).
    """
    _gauge_sources[kind][key] = (dict(attributes or {}), read)


def record_read_retry(reason: str) -> None:
    if metrics_enabled():
        _read_retries.add(1, {"reason": reason})


def record_breaker_transition(name: str, state: str) -> None:
    if metrics_enabled():
        _circuit_transitions.add(1, {"db.name": name, "state": state})


def record_breaker_rejected(name: str) -> None:
    if metrics_enabled():
        _circuit_rejected.add(1, {"db.name": name})


def record_shed(reason: str) -> None:
    if metrics_enabled():
        _shed.add(1, {"reason": reason})


def record_stale_served() -> None:
    if metrics_enabled():
        _stale_served.add(1)
