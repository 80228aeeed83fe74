"""OpenTelemetry instrumentation of the runtime.

The runtime talks only to the OpenTelemetry *API*. With no SDK configured,
``opentelemetry.trace`` and ``metrics`` hand out proxy objects; we detect that and skip
span creation altogether, so an uninstrumented server pays one check per call (a read of
the API's provider global, not its getters, which look the environment up each time).
Once an application (or the harness) installs an SDK provider, spans and metrics flow:

- spans: ``graphql.request``, ``graphql.parse``, ``db.query``, ``pipeline.build``,
  ``cache.get``, ``auth.validate``, ``fraiseql.mutation``
- histograms: ``fraiseql.request.duration`` and ``fraiseql.db.query.duration`` (ms)
- counters: ``fraiseql.errors`` by ``code``; ``fraiseql.cache.requests`` by ``result``;
  ``fraiseql.db.read_retries`` by ``reason``; ``fraiseql.db.circuit.transitions`` by
  ``db.name`` and ``state`` (the state entered); ``fraiseql.db.circuit.rejected`` by
  ``db.name``; ``fraiseql.requests.shed`` by ``reason``; ``fraiseql.cache.stale_served``
- gauges (observed at collection): ``fraiseql.db.circuit.state`` (0 closed, 1 half-open,
  2 open) by ``db.name``; ``fraiseql.requests.in_flight``

Cost with an SDK installed (it is paid on every request): the SDK's tracer and
instruments are taken once, when the provider first shows up, instead of going through
the API's proxies on every call; spans are plain objects with ``__enter__``/``__exit__``
(no generator context managers); and leaf spans (``leaf=True``: ``db.query``,
``pipeline.build``, ``graphql.parse``) are started as children of the current span
without being made current themselves, which saves attaching and detaching a context
for spans that never have children. Under a sampler (``OTEL_TRACES_SAMPLER=
parentbased_traceidratio``, ``OTEL_TRACES_SAMPLER_ARG=0.01``: one request in a hundred
traced), a request whose trace is sampled out makes no span at all. When the sampler is
one of the SDK's rules that decide a root by its trace id (``TraceIdRatioBased``, also
under ``ParentBased``, the SDK's default; ``ALWAYS_OFF``), FraiseQL draws the root's trace
id (the bits itself for the SDK's ``RandomIdGenerator``, the low 64 that the rule reads
first; otherwise from the tracer's id generator) and applies the rule itself, and asks
the SDK for a span only when the root is sampled (with that trace id). Measured in a
loop, a sampled-out request's spans (a root and two leaves) cost 12.6 us through the
SDK's path (sampler, span context, a non-recording span made current) and 3.9 us this
way; 2.0 us with no SDK. Under any other sampler, or under a span of the application's,
the SDK makes the root as usual, and the spans under a sampled-out one are skipped (a
context variable says so). A sampled-out request has no trace id, then, to propagate or
log. Metrics are recorded for every request either way. When FraiseQL installed the meter provider itself
(``fraiseql.otlp.install``), the two histograms recorded per request and per statement
are kept in process (``fraiseql.local_metrics``) rather than in SDK instruments, whose
record costs 40-70k instructions; a provider the application installs gets SDK
instruments for all of them.

Example::

    with telemetry.span("db.query", {"db.sql.table": "v_post"}, leaf=True):
        rows = await run()
    telemetry.record_query(duration_ms=1.7)
"""

from __future__ import annotations

import functools
import os
import random
import weakref
from collections.abc import Mapping
from contextvars import ContextVar
from types import TracebackType
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.environment_variables import OTEL_PYTHON_METER_PROVIDER, OTEL_PYTHON_TRACER_PROVIDER
from opentelemetry.metrics import _internal as _metrics_internal
from opentelemetry.trace import ProxyTracerProvider, Status, StatusCode

INSTRUMENTATION_NAME = "fraiseql"


# Until a provider is installed, the API's get_tracer_provider()/get_meter_provider() look
# the environment up on every call (~1 us each, 6-8 calls a request: ~3% of an
# uninstrumented one-post read). The installed provider is read from the API's own globals
# instead (None until one is set), and the getters are called only where they are needed:
# when the environment names a provider class for the API to load (OTEL_PYTHON_*_PROVIDER,
# read once here) or when an API version keeps its globals elsewhere.
_READ_GLOBALS = (
    OTEL_PYTHON_TRACER_PROVIDER not in os.environ and OTEL_PYTHON_METER_PROVIDER not in os.environ
    and hasattr(trace, "_TRACER_PROVIDER") and hasattr(_metrics_internal, "_METER_PROVIDER")
)


def tracing_enabled() -> bool:
    """True once an SDK tracer provider is installed (the proxy means nobody listens)."""
    return not isinstance(trace.get_tracer_provider(), ProxyTracerProvider)


def metrics_enabled() -> bool:
    """True once an SDK meter provider is installed."""
    return not isinstance(metrics.get_meter_provider(), _metrics_internal._ProxyMeterProvider)


# -- spans ---------------------------------------------------------------------------

_LOW_64_BITS = (1 << 64) - 1  # what TraceIdRatioBased compares with its bound


class _Tracing:
    """The installed tracer provider's tracer for us (None: no SDK), and the bound below
    which the low 64 bits of a root span's trace id are sampled, when that decision can be
    made here instead of by the SDK (None: every span goes through the SDK)."""

    __slots__ = ("provider", "tracer", "root_bound", "trace_ids", "random_ids")

    def __init__(self, provider: Any) -> None:
        self.provider = provider
        self.tracer = provider.get_tracer(INSTRUMENTATION_NAME) if tracing_enabled() else None
        self.root_bound = _root_bound(self.tracer)
        self.trace_ids: _ChosenTraceIds | None = None
        if self.root_bound is not None:
            # Our tracer only (the SDK makes one per get_tracer call): its spans are given
            # the trace id their sampling was decided on.
            self.trace_ids = self.tracer.id_generator = _ChosenTraceIds(self.tracer.id_generator)
        # The SDK's RandomIdGenerator draws a trace id's 128 bits at random, and the rule
        # reads only the low 64: those are drawn first, the high 64 only for a sampled
        # root (the same ids, one draw less and no call for the 99 requests in 100).
        self.random_ids = self.trace_ids is not None and _is_sdk_random(self.trace_ids.inner)


def _is_sdk_random(id_generator: Any) -> bool:
    from opentelemetry.sdk.trace.id_generator import RandomIdGenerator

    return type(id_generator) is RandomIdGenerator


def _root_bound(tracer: Any) -> int | None:
    """The sampling bound of an SDK tracer whose sampler decides a span with no parent by
    its trace id alone, as the SDK's TraceIdRatioBased does (also under ParentBased, the
    SDK's default, which hands such a span to its root sampler; ALWAYS_OFF is a bound of 0).
    The SDK's own should_sample methods only: a subclass that overrides one is not known."""
    try:
        from opentelemetry.sdk.trace import Tracer, sampling
    except ImportError:  # an API-only install with a provider of its own
        return None
    if not isinstance(tracer, Tracer):
        return None
    sampler = tracer.sampler
    if type(sampler).should_sample is sampling.ParentBased.should_sample:
        sampler = getattr(sampler, "_root", None)
    if type(sampler).should_sample is sampling.TraceIdRatioBased.should_sample:
        return int(sampler.bound)
    if sampler is sampling.ALWAYS_OFF:
        return 0
    return None


# The trace id a root span's sampling was decided on, while the SDK makes that span.
_chosen_trace_id: ContextVar[int] = ContextVar("fraiseql_chosen_trace_id", default=0)


class _ChosenTraceIds:
    """An SDK id generator that hands out the chosen trace id, when there is one, and
    otherwise asks the generator it wraps."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def generate_trace_id(self) -> int:
        return _chosen_trace_id.get() or self.inner.generate_trace_id()

    def generate_span_id(self) -> int:
        return self.inner.generate_span_id()

    def is_trace_id_random(self) -> bool:
        return self.inner.is_trace_id_random()


_tracing_for: _Tracing | None = None


def _tracing() -> _Tracing | None:
    """The installed provider's ``_Tracing``, worked out once per provider; None while no
    SDK is installed."""
    global _tracing_for
    provider = trace._TRACER_PROVIDER if _READ_GLOBALS else trace.get_tracer_provider()
    if provider is None:
        return None
    tracing = _tracing_for
    if tracing is None or tracing.provider is not provider:
        tracing = _tracing_for = _Tracing(provider)
    return tracing if tracing.tracer is not None else None


def _context_reader() -> Any:
    """``otel_context.get_current`` or, for the API's default runtime context (one context
    variable), that variable's ``get``: the same value without two Python calls."""
    variable = getattr(getattr(otel_context, "_RUNTIME_CONTEXT", None), "_current_context", None)
    return variable.get if isinstance(variable, ContextVar) else otel_context.get_current


_current_otel_context = _context_reader()


# True inside a (non-leaf) span of ours that does not record: a sampled-out request. One
# context variable read instead of looking up the current span through the API's context.
_sampled_out: ContextVar[bool] = ContextVar("fraiseql_sampled_out", default=False)


class _NoSpan:
    """What ``span`` returns when nobody listens: entering it yields None."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        return None


_NO_SPAN = _NoSpan()


class _Span:
    """A started span, ended on exit; made the current span unless it is a leaf."""

    __slots__ = ("_span", "_token", "_sampled_out_token")

    def __init__(self, tracer: Any, name: str, attributes: Mapping[str, Any] | None, leaf: bool) -> None:
        self._span = started = tracer.start_span(name, attributes=attributes)
        self._sampled_out_token = None
        if leaf:
            self._token = None
        else:
            self._token = otel_context.attach(trace.set_span_in_context(started))
            if not started.is_recording():
                self._sampled_out_token = _sampled_out.set(True)

    def __enter__(self) -> Any:
        return self._span

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        span = self._span
        if exc is not None:  # as start_as_current_span does: the error is on the span
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
        if self._sampled_out_token is not None:
            _sampled_out.reset(self._sampled_out_token)
        if self._token is not None:
            otel_context.detach(self._token)
        span.end()


class _SampledOutRoot:
    """A root span whose trace was sampled out before the SDK was asked for it: nothing is
    made, and the spans under it are skipped too. Entering it yields None."""

    __slots__ = ("_token",)

    def __init__(self) -> None:
        self._token = _sampled_out.set(True)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        _sampled_out.reset(self._token)


def span(name: str, attributes: Mapping[str, Any] | None = None, *, leaf: bool = False) -> Any:
    """A context manager: a span named ``name`` when tracing is on, nothing when it is off.

    ``leaf=True`` for spans that start no other span (their children would attach to
    the enclosing span instead): they are not made current, which is cheaper.
    """
    if _sampled_out.get():
        # Under a span of ours whose trace was sampled out. The SDK's samplers decide a
        # child as its parent (ParentBased) or by the same trace id (TraceIdRatioBased),
        # so the child would record nothing either: skip making it.
        return _NO_SPAN
    tracing = _tracing()
    if tracing is None:
        return _NO_SPAN
    if tracing.root_bound is not None and not leaf and not _current_otel_context():
        # A root span (a request's: the OpenTelemetry context is empty, so there is no
        # parent): its sampling is decided here, as the SDK's sampler would decide it, on
        # a trace id from the SDK's generator. Sampled out (99 requests in 100 at 1%), no
        # span is made: the SDK's path for a dropped one costs ~8 us.
        if tracing.random_ids:
            low = random.getrandbits(64)
            if low >= tracing.root_bound:
                return _SampledOutRoot()
            trace_id = (random.getrandbits(64) << 64) | low
            while trace_id == 0:  # invalid; the SDK's generator draws again too
                trace_id = (random.getrandbits(64) << 64) | low
        else:
            trace_id = tracing.trace_ids.inner.generate_trace_id()
            if trace_id & _LOW_64_BITS >= tracing.root_bound:
                return _SampledOutRoot()
        chosen = _chosen_trace_id.set(trace_id)
        try:
            return _Span(tracing.tracer, name, attributes, leaf)
        finally:
            _chosen_trace_id.reset(chosen)
    return _Span(tracing.tracer, name, attributes, leaf)


# -- metrics ---------------------------------------------------------------------------


# Meter providers whose every reader exports the histograms kept in process
# (``fraiseql.local_metrics``): for them, the two histograms recorded on every request
# and statement are not SDK instruments.
_local_metrics: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def aggregate_locally(provider: Any, local: Any) -> None:
    """Record the request and statement histograms into ``local`` (a ``LocalMetrics``)
    instead of SDK instruments while ``provider`` is installed. Only for a provider all
    of whose readers export through a ``LocalMetricsExporter`` of ``local``."""
    global _instruments
    _local_metrics[provider] = local
    _instruments = None  # made again, with the local histograms, on the next record


class _Instruments:
    """The instruments of the installed meter provider, created once: SDK instruments, but
    the two histograms kept in process when the provider is one ``aggregate_locally`` named."""

    def __init__(self, provider: Any) -> None:
        meter = provider.get_meter(INSTRUMENTATION_NAME)
        self.provider = provider
        local = _local_metrics.get(provider)
        self.local = local is not None
        if local is not None:
            self.request_duration = local.request_duration
            self.query_duration = local.query_duration
        else:
            self.request_duration = meter.create_histogram(
                "fraiseql.request.duration", unit="ms", description="GraphQL request duration"
            )
            self.query_duration = meter.create_histogram(
                "fraiseql.db.query.duration", unit="ms", description="Database statement duration"
            )
        # Recorders for the two histograms: a function of the duration alone, the
        # attributes bound once (per operation type and status for requests).
        self.record_query = (self.query_duration.recorder() if local is not None
                             else self.query_duration.record)
        self.request_recorders: dict[tuple[str, int], Any] = {}
        self.errors = meter.create_counter("fraiseql.errors", description="Errors by GraphQL code")
        self.cache_requests = meter.create_counter(
            "fraiseql.cache.requests", description="Result cache lookups by result"
        )
        # Resilience: retries, the circuit breaker, load shedding, stale reads.
        self.read_retries = meter.create_counter(
            "fraiseql.db.read_retries", description="Reads retried after a transient database failure"
        )
        self.circuit_transitions = meter.create_counter(
            "fraiseql.db.circuit.transitions", description="Circuit breaker state changes by state entered"
        )
        self.circuit_rejected = meter.create_counter(
            "fraiseql.db.circuit.rejected", description="Database calls failed fast by an open circuit"
        )
        self.shed = meter.create_counter("fraiseql.requests.shed", description="Requests refused by load shedding")
        self.stale_served = meter.create_counter(
            "fraiseql.cache.stale_served",
            description="Responses served stale from the cache while the database failed",
        )
        meter.create_observable_gauge(
            "fraiseql.db.circuit.state", callbacks=[_observe("circuit")],
            description="Circuit breaker state: 0 closed, 1 half-open, 2 open",
        )
        meter.create_observable_gauge(
            "fraiseql.requests.in_flight", callbacks=[_observe("in_flight")],
            description="GraphQL requests being executed",
        )

    def request_recorder(self, operation: str, status: int) -> Any:
        """The request-duration recorder of an operation type and status (kept for the
        first 256 pairs: operation types and statuses are few)."""
        attributes = {"graphql.operation.type": operation, "http.status_code": status}
        if self.local:
            recorder = self.request_duration.recorder(attributes)
        else:
            recorder = functools.partial(self.request_duration.record, attributes=attributes)
        if len(self.request_recorders) < 256:
            self.request_recorders[(operation, status)] = recorder
        return recorder


# name -> {key: (attributes, read)}: what the observable gauges report at collection.
_gauge_sources: dict[str, dict[str, Any]] = {"circuit": {}, "in_flight": {}}


def _observe(kind: str) -> Any:
    def callback(options: Any) -> list[metrics.Observation]:
        return [metrics.Observation(read(), attributes) for attributes, read in _gauge_sources[kind].values()]

    return callback


def observe_gauge(kind: str, key: str, read: Any, attributes: Mapping[str, Any] | None = None) -> None:
    """Report ``read()`` on the ``kind`` gauge ("circuit" or "in_flight") under ``key``.

    A later call with the same key replaces the earlier source (one app per process
    in production; tests create many).
    """
    _gauge_sources[kind][key] = (dict(attributes or {}), read)


_instruments: _Instruments | None = None


def _meters() -> _Instruments | None:
    """The instruments of the installed meter provider; None while no SDK is installed."""
    global _instruments
    provider = _metrics_internal._METER_PROVIDER if _READ_GLOBALS else metrics.get_meter_provider()
    if provider is None:
        return None
    if _instruments is not None and _instruments.provider is provider:
        return _instruments
    if not metrics_enabled():
        return None
    _instruments = _Instruments(provider)
    return _instruments


# The two records made on every request and statement read the instruments kept for the
# installed provider without calling _meters() (a Python call each), when they can.


def record_request(duration_ms: float, operation: str, status: int) -> None:
    instruments = _instruments
    if (not _READ_GLOBALS or instruments is None
            or instruments.provider is not _metrics_internal._METER_PROVIDER):
        instruments = _meters()
        if instruments is None:
            return
    recorder = instruments.request_recorders.get((operation, status))
    if recorder is None:
        recorder = instruments.request_recorder(operation, status)
    recorder(duration_ms)


def record_query(duration_ms: float) -> None:
    instruments = _instruments
    if (not _READ_GLOBALS or instruments is None
            or instruments.provider is not _metrics_internal._METER_PROVIDER):
        instruments = _meters()
        if instruments is None:
            return
    instruments.record_query(duration_ms)


def record_error(code: str) -> None:
    instruments = _meters()
    if instruments is not None:
        instruments.errors.add(1, {"code": code})


def record_cache(result: str) -> None:
    instruments = _meters()
    if instruments is not None:
        instruments.cache_requests.add(1, {"result": result})


def record_read_retry(reason: str) -> None:
    instruments = _meters()
    if instruments is not None:
        instruments.read_retries.add(1, {"reason": reason})


def record_breaker_transition(name: str, state: str) -> None:
    instruments = _meters()
    if instruments is not None:
        instruments.circuit_transitions.add(1, {"db.name": name, "state": state})


def record_breaker_rejected(name: str) -> None:
    instruments = _meters()
    if instruments is not None:
        instruments.circuit_rejected.add(1, {"db.name": name})


def record_shed(reason: str) -> None:
    instruments = _meters()
    if instruments is not None:
        instruments.shed.add(1, {"reason": reason})


def record_stale_served() -> None:
    instruments = _meters()
    if instruments is not None:
        instruments.stale_served.add(1)
