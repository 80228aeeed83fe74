"""A request's root span is sampled by FraiseQL before the SDK is asked for it, exactly as
the SDK's sampler would decide, and only for samplers whose rule is known."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from opentelemetry.sdk.trace import TracerProvider, sampling

from fraiseql import telemetry


class _Every(sampling.TraceIdRatioBased):
    """A subclass whose rule is its own: FraiseQL must not assume the ratio's."""

    def should_sample(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return sampling.SamplingResult(sampling.Decision.RECORD_AND_SAMPLE)


@pytest.mark.parametrize(("sampler", "bound"), [
    (sampling.ParentBasedTraceIdRatio(0.25), sampling.TraceIdRatioBased.get_bound_for_rate(0.25)),
    (sampling.TraceIdRatioBased(0.5), sampling.TraceIdRatioBased.get_bound_for_rate(0.5)),
    (sampling.ParentBased(sampling.ALWAYS_OFF), 0),
    (sampling.ALWAYS_OFF, 0),
    (sampling.ParentBased(sampling.ALWAYS_ON), None),  # every root sampled: nothing to decide early
    (_Every(0.1), None),
    (sampling.ParentBased(_Every(0.1)), None),
])
def test_the_root_bound_is_known_only_for_the_sdks_own_rules(sampler: sampling.Sampler, bound: int | None) -> None:
    tracer = TracerProvider(sampler=sampler).get_tracer("test")
    assert telemetry._root_bound(tracer) == bound


# Run in a fresh interpreter: OpenTelemetry's tracer provider is set once per process.
SCRIPT = textwrap.dedent("""
    import json
    import os
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.sdk.trace.sampling import ParentBasedTraceIdRatio

    from fraiseql import telemetry

    RATE = 0.3
    exporter = InMemorySpanExporter()
    from opentelemetry.sdk.trace.id_generator import RandomIdGenerator

    # Count every trace id the SDK's generator is asked for (an application's subclass too).
    asked = [0]
    sdk_generate = RandomIdGenerator.generate_trace_id

    def counted(self):
        asked[0] += 1
        return sdk_generate(self)

    RandomIdGenerator.generate_trace_id = counted

    class OwnIds(RandomIdGenerator):  # an application's: not the SDK's own type
        pass

    own = os.environ.get("OWN_IDS") == "1"
    provider = TracerProvider(sampler=ParentBasedTraceIdRatio(RATE), id_generator=OwnIds() if own else None)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)

    for _ in range(4000):
        with telemetry.span("graphql.request"):
            with telemetry.span("db.query", leaf=True):
                pass
    finished = exporter.get_finished_spans()
    roots = [s for s in finished if s.name == "graphql.request"]
    children = [s for s in finished if s.name == "db.query"]
    exporter.clear()

    # Under a span of the application's own, the SDK decides by that parent, as before.
    app_tracer = provider.get_tracer("app")
    parents = {True: 0, False: 0}
    for _ in range(400):
        with app_tracer.start_as_current_span("app.request") as parent:
            parents[parent.is_recording()] += 1
            with telemetry.span("graphql.request"):
                pass
    under_app = [s for s in exporter.get_finished_spans() if s.name == "graphql.request"]
    print(json.dumps({
        "bound": provider.sampler._root.bound,
        "roots": len(roots),
        "root_low_bits": [s.context.trace_id & (2**64 - 1) for s in roots],
        "children_in_their_root_trace": sorted(s.context.trace_id for s in children)
                                         == sorted(s.context.trace_id for s in roots),
        "children_parented": all(c.parent.span_id in {r.context.span_id for r in roots} for c in children),
        "recording_parents": parents[True],
        "under_app": len(under_app),
        "under_app_parented": all(s.parent is not None for s in under_app),
        "trace_ids_asked": asked[0],
    }))
""")


@pytest.mark.parametrize("own_ids", [False, True], ids=["sdk-random-ids", "own-id-generator"])
def test_roots_are_sampled_at_the_samplers_rate_with_the_trace_id_decided_on(own_ids: bool) -> None:
    # The SDK's RandomIdGenerator: FraiseQL draws the bits itself (the low 64 first); an
    # id generator of the application's: its ids are asked for, one per root at least.
    env = {**os.environ, "OWN_IDS": "1" if own_ids else "0"}
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    import json

    report = json.loads(done.stdout)
    # 4,000 roots at 30%: 1,200 expected, standard deviation 29; six of them either way.
    assert 1026 <= report["roots"] <= 1374, report["roots"]
    # Each traced root has the trace id the decision was made on: its low bits below the bound.
    assert all(low < report["bound"] for low in report["root_low_bits"])
    assert report["children_in_their_root_trace"] and report["children_parented"]
    # Under the application's span: traced exactly when that span is (ParentBased).
    assert 0 < report["recording_parents"] < 400
    assert report["under_app"] == report["recording_parents"] and report["under_app_parented"]
    # The application's 400 roots ask their tracer's generator. FraiseQL's 4,000 roots ask
    # an application's generator once each; for the SDK's own they draw the bits themselves.
    assert report["trace_ids_asked"] == (4400 if own_ids else 400)
