"""A run in one row, read off its trajectory alone: the rules for its status and its usage live
here and nowhere else, for both kinds of run and every schema version."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from .events import (
    Event,
    FormatError,
    ModelCall,
    RunEnded,
    RunResumed,
    RunStarted,
    SkillUsed,
    StageFinished,
    StepDone,
)
from .folder import RunRef
from .trajectory import pid_alive

FINAL = {"done", "unverified", "failed", "stuck", "budget", "format_error", "error", "interrupted"}


class SkillUse(BaseModel):
    name: str
    version: str
    revision: int | None = None


class RunSummary(BaseModel):
    id: str
    kind: str
    status: str
    """A final status (see RunEnded), ``running`` (its writer is alive) or ``unfinished``."""
    model: str = ""
    task: str = ""
    folder: str = ""
    started: float = 0.0
    seconds: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    steps: int = 0
    reason: str = ""
    skills: list[SkillUse] = []
    """The skills the run used, at the versions it used."""


def status_of(events: list[Event], alive: Callable[[int], bool] = pid_alive) -> str:
    """``run_ended``'s status when it is the last of the run's start, resume and end events;
    otherwise ``running`` while the process that wrote the last start or resume lives, and
    ``unfinished`` once it is gone (a crash or kill: ``--resume`` continues it)."""
    last = next((e for e in reversed(events) if isinstance(e, (RunStarted, RunResumed, RunEnded))), None)
    if isinstance(last, RunEnded):
        return last.status
    if last is not None and last.pid and alive(last.pid):
        return "running"
    return "unfinished"


def usage_of(events: list[Event]) -> tuple[int, int, float]:
    """Prompt tokens, reply tokens and dollars. Model-call events count when there are any;
    agent runs written before them carry usage on their steps."""
    calls = [e for e in events if isinstance(e, ModelCall)]
    if calls:
        cost = sum(c.cost or 0.0 for c in calls)
        return sum(c.prompt_tokens for c in calls), sum(c.completion_tokens for c in calls), cost
    prompt = reply = 0
    for e in events:
        if isinstance(e, (StepDone, FormatError)):
            prompt += int(e.usage.get("prompt_tokens", 0))
            reply += int(e.usage.get("completion_tokens", 0))
    ends = [e for e in events if isinstance(e, RunEnded) and e.spend]
    cost = float(ends[-1].spend.get("cost", 0.0)) if ends and ends[-1].spend else 0.0
    return prompt, reply, cost


def _reported(ref: RunRef) -> str | None:
    """A reproduce run written before runs had end events: its status from the report it wrote."""
    try:
        report = json.loads((ref.folder.parent / "report.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(report, dict):
        return None
    return "done" if report.get("ok") else "unverified" if report.get("runs") else "failed"


def summarize(ref: RunRef, events: list[Event] | None = None) -> RunSummary:
    events = ref.trajectory.read() if events is None else events
    info: dict[str, Any] = ref.info()
    start = next((e for e in events if isinstance(e, RunStarted)), None)
    kind = start.kind if start else ref.kind()
    ended = [e for e in events if isinstance(e, RunEnded)]
    prompt, reply, cost = usage_of(events)
    if kind == "agent":
        steps = max((e.step for e in events if isinstance(e, StepDone)), default=0)
    else:
        steps = sum(isinstance(e, StageFinished) for e in events)
    first = events[0].time if events else 0.0
    status = status_of(events)
    if kind == "reproduce" and not ended and status == "unfinished":
        status = _reported(ref) or status
    return RunSummary(
        id=ref.id,
        kind=kind,
        status=status,
        model=str(info.get("model") or (start.model if start else "")),
        task=str(info.get("task") or info.get("paper") or (start.task if start else "")),
        folder=str(ref.folder),
        started=first,
        seconds=round(events[-1].time - first, 1) if events else 0.0,
        prompt_tokens=prompt,
        completion_tokens=reply,
        cost=round(cost, 6),
        steps=steps,
        reason=ended[-1].reason if ended and ended[-1] is events[-1] else "",
        skills=list(
            {  # one use a skill per run (the last record wins)
                e.name: SkillUse(name=e.name, version=e.version, revision=e.revision)
                for e in events
                if isinstance(e, SkillUsed)
            }.values()
        ),
    )
