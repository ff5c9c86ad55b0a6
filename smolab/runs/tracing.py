"""OpenTelemetry spans from a run's trajectory: the run, each stage or step, each model call
(its tokens as attributes), each tool and sandbox call. Built from the events as they are
appended, so every kind of run is traced by the same code and nothing else needs to know.

Off unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (then exported over OTLP/HTTP, with the
SDK's usual variables for headers and the service name), or a test hands in its own provider.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from .events import Event
from .trajectory import Trajectory

_PROVIDER: Any = None


def provider() -> Any:
    """The tracer provider: the one set up from the environment once, or None (tracing off)."""
    global _PROVIDER
    if _PROVIDER is None and os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        name = os.environ.get("OTEL_SERVICE_NAME", "smolab")
        _PROVIDER = TracerProvider(resource=Resource.create({"service.name": name}))
        _PROVIDER.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return _PROVIDER


def ns(seconds: float) -> int:
    return int(seconds * 1e9)


class RunTracer:
    """Turns one run's events into spans: a root span for the run, a span per stage (reproduce)
    or step (agent) under it, and spans for model, tool and sandbox calls under those. A call's
    span starts at its event's time less its duration."""

    def __init__(self, tracer: Any) -> None:
        from opentelemetry import trace

        self._trace = trace
        self.tracer = tracer
        self.root: Any = None
        self.open: dict[str, Any] = {}
        """Stage (by key) and step (by number) spans not yet ended."""

    def _parent(self, event: Event) -> Any:
        step = getattr(event, "step", None)
        key = getattr(event, "key", "")
        span = self.open.get(f"step:{step}") or self.open.get(f"stage:{key}") or self.root
        return self._trace.set_span_in_context(span) if span is not None else None

    def _under_root(self) -> Any:
        return self._trace.set_span_in_context(self.root) if self.root is not None else None

    def _call(self, name: str, event: Event, seconds: float, attributes: dict[str, Any]) -> None:
        start = ns(event.time - seconds)
        span = self.tracer.start_span(
            name, context=self._parent(event), start_time=start, attributes=attributes
        )
        span.end(end_time=ns(event.time))

    def _begin(self, key: str, name: str, event: Event, attributes: dict[str, Any]) -> None:
        """Open a stage's or step's span under the run's."""
        self.open[key] = self.tracer.start_span(
            name, context=self._under_root(), start_time=ns(event.time), attributes=attributes
        )

    def _finish(self, key: str, event: Event, attributes: dict[str, Any]) -> None:
        span = self.open.pop(key, None)
        if span is not None:
            span.set_attributes(attributes)
            span.end(end_time=ns(event.time))

    def __call__(self, event: Event) -> None:
        data = event.line()
        kind = event.type
        if kind in ("run_started", "run_resumed") and self.root is None:
            attrs = {f"smolab.{k}": str(data.get(k, "")) for k in ("kind", "id", "model", "task")}
            self.root = self.tracer.start_span(
                f"smolab {data.get('kind') or 'run'}", start_time=ns(event.time), attributes=attrs
            )
        elif kind == "stage_started":
            self._begin(
                f"stage:{data['key']}", f"stage {data['key']}", event, {"smolab.stage": data["stage"]}
            )
        elif kind == "stage_finished":
            attrs = {k: data.get(k, 0) for k in ("calls", "prompt_tokens", "completion_tokens")}
            self._finish(f"stage:{data['key']}", event, {f"smolab.{k}": v for k, v in attrs.items()})
        elif kind == "step_started":
            self._begin(f"step:{data['step']}", f"step {data['step']}", event, {"smolab.step": data["step"]})
        elif kind == "step":
            attrs = {"smolab.status": data.get("status", ""), "smolab.thought": data.get("thought", "")[:500]}
            self._finish(f"step:{data['step']}", event, attrs)
        elif kind == "model_call":
            self._call(
                f"model {data.get('model', '')}",
                event,
                float(data.get("seconds", 0.0)),
                {
                    "gen_ai.request.model": data.get("model", ""),
                    "gen_ai.usage.input_tokens": data.get("prompt_tokens", 0),
                    "gen_ai.usage.output_tokens": data.get("completion_tokens", 0),
                    "smolab.cached_tokens": data.get("cached_tokens", 0),
                    "smolab.finish": data.get("finish", ""),
                    **({"smolab.cost": data["cost"]} if data.get("cost") is not None else {}),
                },
            )
        elif kind == "tool_call":
            self._call(
                f"tool {data['tool']}",
                event,
                0.0,
                {"smolab.tool": data["tool"], "smolab.ok": bool(data.get("ok", True))},
            )
        elif kind == "sandbox_call":
            self._call(
                f"sandbox {data.get('what', '')}".strip(),
                event,
                float(data.get("seconds", 0.0)),
                {"smolab.status": data.get("status", "")},
            )
        elif kind == "run_ended" and self.root is not None:
            for span in self.open.values():
                span.end(end_time=ns(event.time))
            self.open.clear()
            self.root.set_attributes(
                {"smolab.status": data.get("status", ""), "smolab.reason": str(data.get("reason", ""))[:500]}
            )
            self.root.end(end_time=ns(event.time))
            self.root = None


def trace_run(trajectory: Trajectory, tracer_provider: Any = None) -> Callable[[], None]:
    """Trace what is appended to ``trajectory`` from now on; what stops it (and flushes the
    spans). Does nothing when tracing is off."""
    chosen = tracer_provider or provider()
    if chosen is None:
        return lambda: None
    listener = RunTracer(chosen.get_tracer("smolab"))
    remove = trajectory.listen(listener)

    def stop() -> None:
        remove()
        chosen.force_flush()

    return stop
