"""The events of a run's trajectory: one JSON object per line of ``trajectory.jsonl``, each with
the schema version ``v``, its ``type`` and the ``time`` it happened (seconds since the epoch).

Reproduce and the agent write the same kinds of events, so one reader serves the CLI, resume,
the judge, skill learning and a live view. Fields a reader does not know are kept (``extra``),
and :func:`parse` reads every earlier version: runs written before the schema had a version
(v0) are upgraded as they are read, never rewritten.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1

Kind = Literal["agent", "reproduce"]


def _now() -> float:
    return round(time.time(), 3)


class Event(BaseModel):
    """What every event has; an event of a type this release does not know is read as this."""

    model_config = ConfigDict(extra="allow")

    type: str
    v: int = SCHEMA_VERSION
    time: float = Field(default_factory=_now)

    def line(self) -> dict[str, Any]:
        """The event as its line of the trajectory stores it."""
        return self.model_dump(mode="json")


class RunStarted(Event):
    type: Literal["run_started"] = "run_started"
    kind: Kind
    id: str = ""
    model: str = ""
    task: str = ""
    """The agent's task, or the paper reproduced."""
    pid: int | None = None
    """The process writing the run: a reader tells a run in progress from one that died."""


class RunResumed(Event):
    type: Literal["run_resumed"] = "run_resumed"
    step: int = 0
    pid: int | None = None
    messages: list[dict[str, Any]] = []


class RunEnded(Event):
    type: Literal["run_ended"] = "run_ended"
    status: str
    """done · unverified · failed · stuck · budget · format_error · error · interrupted"""
    reason: str = ""
    answer: Any = None
    step: int = 0
    elapsed: float = 0.0
    spend: dict[str, Any] | None = None


class StageStarted(Event):
    """A step of the reproduce pipeline (``key``) in its stage (read, digest, generate, …)."""

    type: Literal["stage_started"] = "stage_started"
    stage: str
    key: str


class StageFinished(Event):
    type: Literal["stage_finished"] = "stage_finished"
    stage: str
    key: str
    seconds: float = 0.0
    calls: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0


class ModelCall(Event):
    """One finished model call: its tokens and seconds, and (reproduce) what was asked and said."""

    type: Literal["model_call"] = "model_call"
    model: str = ""
    stage: str = ""
    key: str = ""
    step: int | None = None
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    cost: float | None = None
    finish: str = ""
    max_tokens: int | None = None
    schema_title: str | None = None
    messages: list[dict[str, Any]] | None = None
    reply: str | None = None


class Context(Event):
    """The messages a run starts from (the agent's system prompt and task)."""

    type: Literal["context"] = "context"
    step: int = 0
    messages: list[dict[str, Any]] = []


class StepStarted(Event):
    """The agent asks the model for step ``step``."""

    type: Literal["step_started"] = "step_started"
    step: int


class StepDone(Event):
    """One step of the agent: the reply, the code it ran and what came back."""

    type: Literal["step"] = "step"
    step: int
    reply: str = ""
    finish: str = ""
    thought: str = ""
    code: str = ""
    observation: str = ""
    status: str = ""
    tool_calls: list[dict[str, Any]] = []
    usage: dict[str, int] = {}
    model_seconds: float = 0.0
    code_seconds: float = 0.0
    messages: list[dict[str, Any]] = []


class ToolCalled(Event):
    type: Literal["tool_call"] = "tool_call"
    step: int = 0
    tool: str
    arguments: Any = None
    ok: bool = True
    result: str = ""


class SandboxCall(Event):
    """Code run in the sandbox: the agent's step, or a check of the generated repository."""

    type: Literal["sandbox_call"] = "sandbox_call"
    step: int | None = None
    what: str = ""
    status: str
    seconds: float = 0.0


class Approval(Event):
    type: Literal["approval"] = "approval"
    step: int = 0
    action: dict[str, Any] = {}
    decision: dict[str, Any] = {}


class Guard(Event):
    type: Literal["guard"] = "guard"
    step: int = 0
    guard: str
    action: str
    reason: str
    messages: list[dict[str, Any]] = []


class FormatError(Event):
    type: Literal["format_error"] = "format_error"
    step: int = 0
    reply: str = ""
    error: str = ""
    usage: dict[str, int] = {}
    messages: list[dict[str, Any]] = []


class Check(Event):
    """The agent's final answer held against its checks: ``retry`` (sent back) or ``stop``."""

    type: Literal["check"] = "check"
    step: int = 0
    problems: list[str] = []
    action: str = ""
    answer: Any = None
    messages: list[dict[str, Any]] = []


class FinalQuestion(Event):
    type: Literal["final_question"] = "final_question"
    step: int = 0
    reason: str = ""
    reply: str = ""
    answer: Any = None


class Compact(Event):
    type: Literal["compact"] = "compact"
    step: int = 0
    upto: int
    summary: str


class FileWritten(Event):
    type: Literal["file_written"] = "file_written"
    path: str
    bytes: int = 0
    diff: str = ""
    """For a file rewritten (a repair, a fix): the unified diff from what it was, cut at
    ``DIFF_CHARS``."""


DIFF_CHARS = 20_000


class SkillUsed(Event):
    """A skill a run used, at the revision it used: the evidence skills are judged by."""

    type: Literal["skill_used"] = "skill_used"
    name: str
    version: str
    revision: int | None = None
    """The installed revision; None for a built-in skill or a folder given for the run."""
    role: str = ""
    why: str = ""


class EvidenceRecorded(Event):
    """What a finished reproduce run says about the skills it used (``skills.evidence.RunEvidence``)."""

    type: Literal["evidence"] = "evidence"
    evidence: dict[str, Any]


TYPES: dict[str, type[Event]] = {
    cls.model_fields["type"].default: cls
    for cls in (
        RunStarted,
        RunResumed,
        RunEnded,
        StageStarted,
        StageFinished,
        ModelCall,
        Context,
        StepStarted,
        StepDone,
        ToolCalled,
        SandboxCall,
        Approval,
        Guard,
        FormatError,
        Check,
        FinalQuestion,
        Compact,
        FileWritten,
        SkillUsed,
        EvidenceRecorded,
    )
}

# v0 (before the schema had a version): the agent named three events differently, and the
# reproduce pipeline's lines (model calls only) had no type at all.
_V0_NAMES = {"start": "run_started", "resume": "run_resumed", "end": "run_ended"}


def _upgrade(data: dict[str, Any]) -> dict[str, Any]:
    d = dict(data)
    if "type" not in d:
        d["type"] = "model_call"
        d["key"] = d.pop("step", "")
        d["schema_title"] = d.pop("schema", None)
    else:
        d["type"] = _V0_NAMES.get(d["type"], d["type"])
        if d["type"] == "run_started":
            d.setdefault("kind", "agent")
    d["v"] = SCHEMA_VERSION
    return d


def parse(data: dict[str, Any]) -> Event:
    """An event from its line, whichever version wrote it."""
    if int(data.get("v", 0)) < SCHEMA_VERSION:
        data = _upgrade(data)
    cls = TYPES.get(str(data.get("type")), Event)
    try:
        return cls.model_validate(data)
    except ValueError:
        # A known type with fields this release cannot read: keep it, untyped, rather than lose it.
        return Event.model_validate({**data, "type": str(data.get("type", "unknown"))})
