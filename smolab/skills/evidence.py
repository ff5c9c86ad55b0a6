"""What the runs that used a skill say about it.

Two readings of the same record:

- ``outcomes_from``: for selection, the outcome of each finished run that used a skill (the runs
  index's ``skill_uses``); a run that ended ``done`` is a success of every skill it used.
- ``RunEvidence``: for evolution, one finished reproduce run in full: the skills it used, the
  checks and tests before and after repair, the errors it met (as signatures: the exception
  and its message with numbers and quoted values taken out, so the same mistake in two papers
  reads the same), what repair changed, and what that fixed. It is written into the run's
  trajectory as an ``evidence`` event when the run ends.
"""

from __future__ import annotations

import builtins
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, Field

from .select import SUCCESS, Outcome

FINAL = {"done", "unverified", "failed", "stuck", "budget", "format_error", "error", "interrupted"}


class Uses(Protocol):
    """The runs that used a skill (``RunIndex``)."""

    def uses_of(self, skill: str) -> builtins.list[tuple[Any, Any]]: ...


def outcomes_from(index: Uses) -> Callable[[str], list[Outcome]]:
    """The outcomes of the finished runs that used a skill, by its name."""

    def of(name: str) -> list[Outcome]:
        return [
            Outcome(when=run.started, success=run.status in SUCCESS)
            for run, _ in index.uses_of(name)
            if run.status in FINAL
        ]

    return of


class SkillRef(BaseModel):
    name: str
    version: str
    revision: int | None = None


class RunEvidence(BaseModel):
    """One finished reproduce run, as the evolver reads it. Bounded: it is shared with a hub."""

    run: str = Field(max_length=120)
    paper: str = Field(default="", max_length=200)
    """The paper's title."""
    source: str = Field(default="", max_length=500)
    """What was reproduced (a PDF's path, an arXiv id): the case a replay runs again."""
    kind: str = Field(default="", max_length=40)
    """The contribution's kind (the blueprint's), or "other"."""
    status: str = Field(default="", max_length=20)
    skills: list[SkillRef] = Field(default_factory=list, max_length=20)
    tests_before: tuple[int, int] = (0, 0)
    tests_after: tuple[int, int] = (0, 0)
    checks_after: dict[str, bool] = Field(default_factory=dict)
    repair_rounds: int = 0
    errors: list[str] = Field(default_factory=list, max_length=12)
    """Signatures of the errors the first verification met."""
    fixes: list[str] = Field(default_factory=list, max_length=12)
    """What the deterministic fixes changed, one line each."""
    repaired: list[str] = Field(default_factory=list, max_length=12)
    """The units the model rewrote in repair ("method.py: Block.forward")."""
    fixed: list[str] = Field(default_factory=list, max_length=24)
    """The failures repair fixed."""
    tokens: int = 0
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.status in SUCCESS


_RAISED = re.compile(r"^(?:E\s+)?([A-Z]\w*(?:Error|Exception)|AssertionError|assert)\b:?\s*(.*)$", re.M)
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_SIZES = re.compile(r"\b\d+(?:x\d+)+\b")
_NUMBERS = re.compile(r"(?<![A-Za-z_])\d+(?:\.\d+)?(?:e-?\d+)?\b")


def signature(error: str) -> str:
    """The last exception an error report raised, with quoted values and numbers generalised:
    "RuntimeError: mat1 and mat2 shapes cannot be multiplied (NxN and NxN)"."""
    found = _RAISED.findall(error)
    if not found:
        return ""
    kind, message = found[-1]
    message = _QUOTED.sub("'…'", message.strip())
    message = _NUMBERS.sub("N", _SIZES.sub(lambda m: "x".join("N" * (m.group().count("x") + 1)), message))
    return f"{kind}: {message}"[:160].rstrip(": ")


def _result(steps: Path, key: str) -> dict[str, Any]:
    path = steps / (key.replace("/", "__") + ".json")
    try:
        return dict(json.loads(path.read_text()).get("result") or {})
    except (OSError, ValueError):
        return {}


def read_run(root: Path, run_id: str = "", status: str = "") -> RunEvidence | None:
    """The evidence of the reproduce run whose repository is ``root`` (its ``.smolab`` folder
    holds the steps), or None for a run that never verified anything. ``status`` is the run's,
    when it is known before its end event is written."""
    meta = root / ".smolab"
    steps = meta / "steps"
    first = _result(steps, "verify/0")
    if not first:
        return None
    rounds = sorted(
        int(p.stem.split("__")[1]) for p in steps.glob("verify__*.json") if p.stem.split("__")[1].isdigit()
    )
    last = _result(steps, f"verify/{rounds[-1]}")
    report: dict[str, Any] = {}
    for candidate in (root / "report.json",):
        if candidate.is_file():
            report = json.loads(candidate.read_text())
    kind = _result(steps, "plan/kind").get("kind", "")
    skills: list[SkillRef] = []
    ended, source, tokens, seconds = "", "", 0, 0.0
    trajectory = meta / "trajectory.jsonl"
    if trajectory.is_file():
        for line in trajectory.read_text().splitlines():
            event = json.loads(line)
            if event.get("type") == "skill_used":
                skills.append(
                    SkillRef(name=event["name"], version=event["version"], revision=event.get("revision"))
                )
            elif event.get("type") == "run_started":
                source = str(event.get("task", ""))[:500]
            elif event.get("type") == "run_ended":
                ended = event.get("status", "")
            elif event.get("type") == "model_call":
                tokens += int(event.get("prompt_tokens", 0)) + int(event.get("completion_tokens", 0))
                seconds += float(event.get("seconds", 0.0))
    fixes: list[str] = []
    repaired: list[str] = []
    fixed: list[str] = []
    for n in rounds[1:]:
        step = _result(steps, f"repair/{n}")
        fixes += [str(f)[:200] for f in step.get("fixes", [])]
        repaired += [str(r.get("target", ""))[:120] for r in step.get("repaired", [])]
        fixed += [str(f)[:200] for f in _result(steps, f"verify/{n}").get("fixed", [])]
    errors = list(dict.fromkeys(s for f in first.get("failures", []) if (s := signature(f.get("error", "")))))
    return RunEvidence(
        run=run_id or root.name,
        paper=str(report.get("title", ""))[:200],
        source=source,
        kind=kind,
        status=status or ended,
        skills=skills[:20],
        tests_before=(int(first.get("tests_passed", 0)), int(first.get("tests_total", 0))),
        tests_after=(int(last.get("tests_passed", 0)), int(last.get("tests_total", 0))),
        checks_after={c["name"]: bool(c["ok"]) for c in last.get("checks", [])},
        repair_rounds=max(0, len(rounds) - 1),
        errors=errors[:12],
        fixes=list(dict.fromkeys(fixes))[:12],
        repaired=list(dict.fromkeys(repaired))[:12],
        fixed=list(dict.fromkeys(fixed))[:24],
        tokens=tokens,
        seconds=round(seconds, 1),
    )
