"""Repair by the agent: the generated repository is the agent's workspace and its failing checks
are the task. The agent reads files, runs the tests and edits until they pass or its steps run
out; whatever it changed outside the files repair may edit (the tests, the contract) is put
back, so the checks it is judged by stay the paper's."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..agent import AgentOptions, Budget, build, deny_all, run_task
from ..config import Settings
from ..models import ChatModel
from .rundir import RunDir
from .verdict import error_line
from .verify import Verification

MAX_STEPS = 8
STEP_TIMEOUT = 120.0


@dataclass
class AgentRepair:
    """What the agent engine needs besides the pipeline's model: settings for its tools and run
    folder (the CLI's), and its step budget per round."""

    settings: Settings
    max_steps: int = MAX_STEPS


def repair_task(v: Verification, editable: list[str]) -> str:
    """The failing checks as a task: what fails, where, and what may change."""
    lines = []
    for f in v.failures[:4]:
        where = f" (in {f.file})" if f.file else ""
        lines.append(f"- {f.check}{where}: {error_line(f.error)[:300]}")
    files = ", ".join(editable)
    return (
        "This repository implements a machine-learning paper, and some of its checks fail:\n"
        + "\n".join(lines)
        + "\nFix the code so that they pass. Change only these files: "
        f"{files}. Never change the tests. See the failures with "
        "shell('python -m pytest -q -x') or shell('python main.py --smoke'), fix, run again, and "
        "when they pass answer with one line saying what you changed."
    )


def agent_repair(
    engine: AgentRepair, model: ChatModel, run: RunDir, v: Verification, editable: list[str], round_no: int
) -> dict[str, Any]:
    """One repair round by the agent; what it changed and how its run ended."""
    before = {name: run.read_file(name) for name in run.repo_files()}
    options = AgentOptions(budget=Budget(max_steps=engine.max_steps), step_timeout=STEP_TIMEOUT)
    folder = run.meta / "agent-repair" / str(round_no)
    if folder.exists():  # a round cut short by a crash starts again
        shutil.rmtree(folder)
    task = repair_task(v, editable)
    session = build(model, engine.settings, run.root, folder, task=task, options=options, approver=deny_all)
    outcome = run_task(session, task)
    changed, restored = [], []
    for name in run.repo_files():
        text = run.read_file(name)
        if before.get(name) == text:
            continue
        if name in editable:
            changed.append(name)
            run.write_file(name, text)  # recorded as the run's own file (for --force) and as an event
        elif name in before:
            run.write_file(name, before[name])
            restored.append(name)
    for name in set(before) - set(run.repo_files()):
        run.write_file(name, before[name])
        restored.append(name)
    for name in run.repo_files():
        if name not in before and name not in editable:
            (run.root / name).unlink()
            restored.append(name)
    return {
        "engine": "agent",
        "prompt_tokens": outcome.spend.prompt_tokens,
        "completion_tokens": outcome.spend.completion_tokens,
        "status": outcome.status,
        "steps": outcome.steps,
        "answer": str(outcome.answer or "")[:300],
        "repaired": [{"target": n, "check": "agent"} for n in changed],
        "restored": sorted(restored),
        "trajectory": str(Path(folder).relative_to(run.root)),
    }
