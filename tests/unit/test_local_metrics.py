"""Histograms aggregated in process export what the SDK's own histogram would have."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.metrics import Histogram as HistogramInstrument
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    InMemoryMetricReader,
    MetricExporter,
    MetricExportResult,
    MetricsData,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from fraiseql.local_metrics import FOLD_AT, LocalHistogram, LocalMetrics, LocalMetricsExporter

DURATIONS = st.lists(
    st.one_of(st.floats(min_value=0, max_value=20_000, allow_nan=False),
              st.sampled_from([0.0, 5.0, 10.0, 250.0, 10_000.0])),  # on the boundaries too
    min_size=1, max_size=60,
)
ATTRIBUTES = st.sampled_from([
    {"graphql.operation.type": "query", "http.status_code": 200},
    {"graphql.operation.type": "mutation", "http.status_code": 200},
    {"graphql.operation.type": "query", "http.status_code": 504},
])


def _sdk_points(recorded: list[tuple[float, dict]]) -> dict[tuple, tuple]:
    reader = InMemoryMetricReader()
    histogram = MeterProvider(metric_readers=[reader]).get_meter("t").create_histogram("h", unit="ms")
    for value, attributes in recorded:
        histogram.record(value, attributes)
    data = reader.get_metrics_data()
    points = data.resource_metrics[0].scope_metrics[0].metrics[0].data.data_points
    return {tuple(sorted(p.attributes.items())): _summary(p) for p in points}


def _summary(point) -> tuple:
    return (point.count, round(point.sum, 6), list(point.bucket_counts), tuple(point.explicit_bounds),
            point.min, point.max)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(DURATIONS, ATTRIBUTES), min_size=1, max_size=4))
def test_the_same_values_give_the_sdk_histograms_counts_buckets_and_extremes(batches) -> None:
    recorded = [(value, attributes) for values, attributes in batches for value in values]
    local = LocalHistogram("h", "ms", "")
    for value, attributes in recorded:
        local.record(value, attributes)
    metric = local.collect(AggregationTemporality.CUMULATIVE, now_ns=1)
    ours = {tuple(sorted(p.attributes.items())): _summary(p) for p in metric.data.data_points}
    assert ours == _sdk_points(recorded)


def test_delta_starts_again_after_each_collection_and_cumulative_does_not() -> None:
    delta, cumulative = LocalHistogram("h", "ms", ""), LocalHistogram("h", "ms", "")
    for histogram in (delta, cumulative):
        histogram.record(3.0)
        histogram.record(30.0)
    first = delta.collect(AggregationTemporality.DELTA, now_ns=100).data.data_points[0]
    assert (first.count, first.sum) == (2, 33.0)
    delta.record(7.0)
    cumulative.record(7.0)
    second = delta.collect(AggregationTemporality.DELTA, now_ns=200).data.data_points[0]
    assert (second.count, second.sum, second.start_time_unix_nano) == (1, 7.0, 100)
    assert delta.collect(AggregationTemporality.DELTA, now_ns=300) is None  # nothing since
    cumulative.collect(AggregationTemporality.CUMULATIVE, now_ns=100)
    total = cumulative.collect(AggregationTemporality.CUMULATIVE, now_ns=200).data.data_points[0]
    assert (total.count, total.sum) == (3, 40.0)


def test_negative_values_are_dropped_as_the_sdk_drops_them() -> None:
    histogram = LocalHistogram("h", "ms", "")
    histogram.record(-1.0)
    histogram.recorder({"a": 1})(-1.0)
    assert histogram.collect(AggregationTemporality.CUMULATIVE, now_ns=1) is None


def test_a_recorder_records_as_record_does_for_its_attributes_across_folds() -> None:
    attributes = {"graphql.operation.type": "query", "http.status_code": 200}
    values = [float(n % 300) for n in range(2 * FOLD_AT + 17)]  # folds twice on the way
    by_record, by_recorder = LocalHistogram("h", "ms", ""), LocalHistogram("h", "ms", "")
    record = by_recorder.recorder(attributes)
    by_recorder.record(1.5, attributes)  # record and a recorder share the attribute set's point
    by_record.record(1.5, attributes)
    for value in values:
        by_record.record(value, attributes)
        record(value)
    mine, theirs = (h.collect(AggregationTemporality.CUMULATIVE, now_ns=1).data.data_points
                    for h in (by_recorder, by_record))
    assert [(_summary(p), dict(p.attributes)) for p in mine] == [(_summary(p), dict(p.attributes)) for p in theirs]
    assert mine[0].count == len(values) + 1


class _Keep(MetricExporter):
    def __init__(self, preferred_temporality=None) -> None:
        super().__init__(preferred_temporality=preferred_temporality)
        self.exports: list[MetricsData] = []

    def export(self, metrics_data, timeout_millis: float = 10_000, **kwargs) -> MetricExportResult:
        self.exports.append(metrics_data)
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs) -> None:
        return None


def _names(data: MetricsData) -> dict[str, list[str]]:
    return {scope.scope.name: [m.name for m in scope.metrics]
            for resource in data.resource_metrics for scope in resource.scope_metrics}


def test_the_exporter_adds_the_histograms_to_the_fraiseql_scope_and_keeps_the_rest() -> None:
    local, inner = LocalMetrics(), _Keep()
    local.request_duration.record(2.5, {"graphql.operation.type": "query", "http.status_code": 200})
    local.query_duration.record(0.7)
    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader], resource=Resource.create({"service.name": "s"}))
    meter.get_meter("fraiseql").create_counter("fraiseql.errors").add(1, {"code": "X"})
    meter.get_meter("other").create_counter("other.count").add(1)
    LocalMetricsExporter(inner, local).export(reader.get_metrics_data())
    exported = inner.exports[0]
    assert _names(exported) == {
        "fraiseql": ["fraiseql.errors", "fraiseql.request.duration", "fraiseql.db.query.duration"],
        "other": ["other.count"],
    }
    assert exported.resource_metrics[0].resource.attributes["service.name"] == "s"


def test_the_scope_is_made_when_the_sdk_had_nothing_of_ours() -> None:
    local, inner = LocalMetrics(), _Keep()
    local.query_duration.record(1.0)
    empty = MetricsData([ResourceMetrics(Resource.get_empty(), [
        ScopeMetrics(InstrumentationScope("other"), [], "")], "")])
    LocalMetricsExporter(inner, local).export(empty)
    assert _names(inner.exports[0]) == {"other": [], "fraiseql": ["fraiseql.db.query.duration"]}


def test_the_exporter_follows_its_inner_exporters_preferred_temporality() -> None:
    local = LocalMetrics()
    inner = _Keep(preferred_temporality={HistogramInstrument: AggregationTemporality.DELTA})
    exporter = LocalMetricsExporter(inner, local)
    assert exporter.temporality == AggregationTemporality.DELTA
    assert exporter._preferred_temporality == inner._preferred_temporality  # what the reader reads
    local.query_duration.record(1.0)
    exporter.export(MetricsData([]))
    local.query_duration.record(2.0)
    exporter.export(MetricsData([]))
    counts = [data.resource_metrics[0].scope_metrics[0].metrics[0].data.data_points[0].count
              for data in inner.exports]
    assert counts == [1, 1]
    assert LocalMetricsExporter(_Keep(), local).temporality == AggregationTemporality.CUMULATIVE


def test_nothing_recorded_is_lost_while_other_threads_collect_deltas() -> None:
    import threading

    from fraiseql import local_metrics

    histogram = LocalHistogram("h", "ms", "")
    writers, per_writer = 4, 3 * local_metrics.FOLD_AT + 17  # folds by the writers too
    collected: list[int] = []
    done = threading.Event()

    def write(status: int) -> None:
        for i in range(per_writer):
            histogram.record(float(i % 300), {"http.status_code": status})

    def collect() -> None:
        while not done.is_set():
            metric = histogram.collect(AggregationTemporality.DELTA, now_ns=1)
            if metric is not None:
                collected.extend(p.count for p in metric.data.data_points)

    collector = threading.Thread(target=collect)
    collector.start()
    threads = [threading.Thread(target=write, args=(200 + n % 2,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    collector.join()
    last = histogram.collect(AggregationTemporality.DELTA, now_ns=2)
    if last is not None:
        collected.extend(p.count for p in last.data.data_points)
    assert sum(collected) == writers * per_writer
