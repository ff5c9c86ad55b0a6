"""``summary.md``: what a run did and, when it stopped short, what is left. Written from the
trajectory alone (no model call), so it is there even when the budget that stopped the run
was the model's."""

from __future__ import annotations

import json
from typing import Any

from ..runs.events import Approval, RunStarted, StepDone
from .memory import RunFolder
from .outcome import Outcome

WRITES = {"write_file", "edit_file", "delete_file"}


def write_summary(run: RunFolder, outcome: Outcome) -> str:
    events = run.events()
    start = next((e for e in events if isinstance(e, RunStarted)), None)
    steps = [e for e in events if isinstance(e, StepDone)]
    approvals = [e for e in events if isinstance(e, Approval)]
    s = outcome.spend
    lines = [
        f"# {start.task if start else 'agent run'}",
        "",
        f"**Status:** {outcome.status} ({outcome.reason})",
        f"**Steps:** {len(steps)} · **tokens:** {s.prompt_tokens:,} prompt + {s.completion_tokens:,} reply"
        f" · **time:** {s.seconds:.0f} s" + (f" · **cost:** ${s.cost:.4f}" if s.cost else ""),
        "",
    ]
    if outcome.status == "done":
        lines += ["## Answer", "", _answer(outcome.answer), ""]
    elif outcome.answer is not None:
        lines += ["## Answer given, not accepted", "", _answer(outcome.answer), ""]
    lines += ["## What was done", ""]
    for e in steps:
        mark = e.status or "?"
        tools = ", ".join(sorted({c["tool"] for c in e.tool_calls}))
        lines.append(f"{e.step}. {e.thought or '(no thought)'} [{mark}" + (f"; {tools}]" if tools else "]"))
    if not steps:
        lines.append("Nothing: no step ran.")
    changed = sorted(
        {
            str(c["arguments"].get("path"))
            for e in steps
            for c in e.tool_calls
            if c["tool"] in WRITES and c.get("ok")
        }
    )
    if changed:
        lines += ["", "Files written or deleted through tools: " + ", ".join(f"`{p}`" for p in changed)]
    if approvals:
        lines += ["", "## Approvals", ""]
        for a in approvals:
            act, dec = a.action, a.decision
            verdict = "allowed" if dec["allowed"] else "denied"
            lines.append(
                f"- step {a.step}: {act['tool']} ({act['kind']}: {act['detail'][:120]}) "
                f"{verdict} by {dec['by']}"
            )
    if outcome.status != "done":
        lines += ["", "## What is left", ""]
        last = steps[-1] if steps else None
        if outcome.status == "unverified":
            lines.append("The task is not finished: the answer above failed its checks (see the status).")
        else:
            lines.append("The task is not finished; no final answer was given.")
        if last is not None:
            lines.append(f"The last step was: {last.thought or '(no thought)'}")
            obs = last.observation.strip().splitlines()
            if obs:
                lines.append(f"and it printed: `{obs[-1][:200]}`")
        if outcome.status in ("budget", "interrupted", "error"):
            lines.append(f"Continue with `smolab run --resume {run.root}` (a larger budget if one ran out).")
    text = "\n".join(lines) + "\n"
    run.write("summary.md", text)
    return text


def _answer(answer: Any) -> str:
    if isinstance(answer, str):
        return answer
    try:
        return "```json\n" + json.dumps(answer, indent=1) + "\n```"
    except (TypeError, ValueError):
        return str(answer)
