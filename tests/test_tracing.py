"""OpenTelemetry: spans for a run, its steps or stages, model calls (tokens as attributes), tool
and sandbox calls; with the SDK's in-memory exporter, and over OTLP/HTTP to a receiver the test
starts on loopback. Off when OTEL_EXPORTER_OTLP_ENDPOINT is not set."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import smolab.runs.tracing as tracing
from smolab.reproduce import Options, reproduce
from smolab.runs import Trajectory
from smolab.runs.events import RunStarted

from .scripted_author import PAPER_TEX, Author, author_model
from .test_agent import make, step
from .test_skills import METHODS


@pytest.fixture
def spans(monkeypatch):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(tracing, "_PROVIDER", provider)
    return exporter


def by_name(exporter: InMemorySpanExporter) -> dict[str, list]:
    out: dict[str, list] = {}
    for s in exporter.get_finished_spans():
        out.setdefault(s.name.split(" ")[0], []).append(s)
    return out


def test_an_agent_run_is_a_tree_of_spans(tmp_path, spans):
    replies = [step("Compute.", "print(write_file('a.txt', 'x'))"), step("Answer.", "final_answer(42)")]
    session, _, _ = make(tmp_path, replies, task="write a.txt and answer 42")
    with session:
        session.agent.start("write a.txt and answer 42")
    found = by_name(spans)
    [root] = found["smolab"]
    assert root.name == "smolab agent" and root.attributes["smolab.status"] == "done"
    steps = found["step"]
    assert [s.attributes["smolab.step"] for s in steps] == [1, 2]
    assert all(s.parent.span_id == root.context.span_id for s in steps)
    models = found["model"]
    assert len(models) == 2 and all(m.attributes["gen_ai.usage.input_tokens"] > 0 for m in models)
    step_ids = {s.context.span_id for s in steps}
    assert all(m.parent.span_id in step_ids for m in models)
    assert {t.attributes["smolab.tool"] for t in found["tool"]} >= {"write_file", "final_answer"}
    assert found["sandbox"] and all(s.parent.span_id in step_ids for s in found["sandbox"])
    assert all(s.end_time >= s.start_time for s in spans.get_finished_spans())


def test_a_reproduce_run_has_a_span_per_stage_with_its_model_calls(tmp_path, spans):
    paper = tmp_path / "paper.tex"
    paper.write_text(PAPER_TEX)
    swish = (METHODS / "activation.py").read_text()
    reference = "import torch\n\n\ndef reference(x):\n    return x * torch.sigmoid(x)\n"
    model = author_model(Author(contribution="activation", method=swish, reference=reference))
    reproduce(str(paper), tmp_path / "repo", model, options=Options(repair_rounds=0))
    found = by_name(spans)
    [root] = found["smolab"]
    assert root.name == "smolab reproduce" and root.attributes["smolab.status"] == "done"
    stages = {s.name: s for s in found["stage"]}
    assert {"stage read", "stage digest", "stage plan/kind", "stage verify/0"} <= set(stages)
    ids = {s.context.span_id for s in stages.values()}
    assert found["model"] and all(m.parent.span_id in ids for m in found["model"])
    digest = stages["stage digest"]
    assert digest.attributes["smolab.prompt_tokens"] > 0


def test_tracing_is_off_without_an_endpoint(tmp_path, monkeypatch):
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.setattr(tracing, "_PROVIDER", None)
    trajectory = Trajectory(tmp_path / "t.jsonl")
    stop = tracing.trace_run(trajectory)
    trajectory.append(RunStarted(kind="agent", id="x", task="t", model="m"))
    stop()
    assert tracing.provider() is None and not trajectory._listeners


def test_spans_reach_an_otlp_http_receiver(tmp_path, monkeypatch):
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    received: list[ExportTraceServiceRequest] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["content-length"]))
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            received.append(request)
            assert self.path == "/v1/traces" and self.headers["content-type"] == "application/x-protobuf"
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setattr(tracing, "_PROVIDER", None)
    try:
        session, _, _ = make(
            tmp_path, [step("Answer.", "print(42)"), step("Done.", "final_answer(42)")], task="say 42"
        )
        with session:
            session.agent.start("say 42")
    finally:
        server.shutdown()
    spans = [s for r in received for rs in r.resource_spans for ss in rs.scope_spans for s in ss.spans]
    names = {s.name.split(" ")[0] for s in spans}
    assert {"smolab", "step", "model", "sandbox"} <= names
    resource = received[0].resource_spans[0].resource
    assert any(a.key == "service.name" and a.value.string_value == "smolab" for a in resource.attributes)
    model = next(s for s in spans if s.name.startswith("model"))
    assert any(a.key == "gen_ai.usage.input_tokens" and a.value.int_value > 0 for a in model.attributes)
