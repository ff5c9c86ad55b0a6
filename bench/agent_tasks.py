"""Runs the agent benchmark's thirty tasks (``agenttasks``: questions, files and data, ML work)
with an embedded model through smolab's agent and (``--peer``) smolagents' CodeAgent, and
prints one table per tier and a total."""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

from agenttasks import TASKS, TIERS, Task
from rich.console import Console
from rich.table import Table


@dataclass
class Result:
    ok: bool
    steps: int
    replies: int
    parsed: int
    seconds: float
    done: bool
    """The agent said it finished (smolab: status done; smolagents: it returned an answer)."""


def _workspace(task: Task) -> Path:
    ws = Path(tempfile.mkdtemp(prefix=f"bench-{task.name}-"))
    for name, text in task.files.items():
        (ws / name).parent.mkdir(parents=True, exist_ok=True)
        (ws / name).write_text(text)
    return ws


def run_smolab(model: Any, task: Task, max_steps: int, skills: bool = False) -> Result:
    from smolab.agent import AgentOptions, Budget, build, run_task
    from smolab.config import load_settings
    from smolab.skills import SkillLibrary
    from smolab.skills.guide import Guide

    ws = _workspace(task)
    root = Path(tempfile.mkdtemp(prefix="bench-run-"))
    options = AgentOptions(budget=Budget(max_steps=max_steps), step_timeout=60)
    start = time.perf_counter()
    guide = Guide(list(SkillLibrary())) if skills else None
    settings = load_settings(home=root / "home")
    session = build(model, settings, ws, root / "run", task=task.prompt, options=options, guide=guide)
    outcome = run_task(session, task.prompt)
    seconds = time.perf_counter() - start
    events = [json.loads(line) for line in (root / "run" / "trajectory.jsonl").read_text().splitlines()]
    parsed = sum(e["type"] == "step" for e in events)
    replies = parsed + sum(e["type"] == "format_error" for e in events)
    try:
        ok = task.check(outcome.answer, ws)
    except Exception:
        ok = False
    return Result(ok, outcome.steps, replies, parsed, seconds, outcome.status == "done")


def run_smolagents(model: Any, task: Task, max_steps: int) -> Result:
    from smolagents import CodeAgent
    from smolagents.memory import ActionStep
    from smolagents.monitoring import LogLevel
    from smolagents.utils import AgentParsingError

    ws = _workspace(task)
    agent = CodeAgent(
        tools=[],
        model=PeerModel(model),
        max_steps=max_steps,
        verbosity_level=LogLevel.OFF,
        additional_authorized_imports=[
            "csv",
            "json",
            "math",
            "statistics",
            "collections",
            "re",
            "os",
            "subprocess",
            "datetime",
            "random",
            "pathlib",
            "io",
            "numpy",
            "numpy.*",
            "torch",
            "torch.*",
            "sklearn",
            "sklearn.*",
        ],
    )
    prompt = f"{task.prompt} The files are in the folder {ws}; write files there too."
    start = time.perf_counter()
    try:
        answer = agent.run(prompt)
    except Exception:
        answer = None
    seconds = time.perf_counter() - start
    steps = [s for s in agent.memory.steps if isinstance(s, ActionStep)]
    bad = sum(isinstance(s.error, AgentParsingError) for s in steps)
    try:
        ok = task.check(answer, ws)
    except Exception:
        ok = False
    return Result(ok, len(steps), len(steps), len(steps) - bad, seconds, answer is not None)


class PeerModel:
    """smolab's model (an embedded GGUF through llama.cpp) behind smolagents' Model interface."""

    def __new__(cls, chat: Any) -> Any:
        from smolagents import Model
        from smolagents.models import ChatMessage, MessageRole
        from smolagents.monitoring import TokenUsage

        from smolab.models import Message

        class _Peer(Model):
            def __init__(self) -> None:
                super().__init__(model_id=chat.name)

            def generate(
                self, messages, stop_sequences=None, response_format=None, tools_to_call_from=None, **kw
            ):
                msgs = []
                for m in messages:
                    m = m if isinstance(m, dict) else m.dict()
                    role = str(m["role"].value if hasattr(m["role"], "value") else m["role"])
                    content = m["content"]
                    if isinstance(content, list):
                        content = "\n".join(c.get("text", "") for c in content if isinstance(c, dict))
                    role = {"tool-call": "assistant", "tool-response": "user"}.get(role, role)
                    msgs.append(Message(role, str(content)))  # type: ignore[arg-type]
                room = chat.context_window - chat.count_tokens(msgs) - 8
                done = chat.chat(msgs, stop=stop_sequences, max_tokens=max(16, min(768, room)))
                return ChatMessage(
                    role=MessageRole.ASSISTANT,
                    content=done.text,
                    token_usage=TokenUsage(
                        input_tokens=done.usage.prompt_tokens, output_tokens=done.usage.completion_tokens
                    ),
                )

        return _Peer()


def _done_before(path: Path | None) -> dict[tuple[str, str], Result]:
    """Results a previous run of the benchmark appended to ``path``, by (agent, task)."""
    if path is None or not path.is_file():
        return {}
    out = {}
    for line in path.read_text().splitlines():
        row = json.loads(line)
        key = (row.pop("agent"), row.pop("task"))  # before Result(**row): the right side runs first
        out[key] = Result(**row)
    return out


def run_tasks(
    model_name: str,
    only: list[str] | None,
    peer: bool,
    max_steps: int,
    results: Path | None = None,
    skills: str = "off",
) -> None:
    """Each task with each agent; with ``results`` (a JSON-lines file) every result is appended
    as it comes and a rerun reads finished ones back, so one measurement can span sessions."""
    from smolab.config import load_settings
    from smolab.models import load_model

    model = load_model(model_name, load_settings(temperature=0.0))
    tasks = [t for t in TASKS if not only or t.tier in only or t.name in only]
    agents: dict[str, Any] = {}
    if skills in ("off", "both"):
        agents["smolab"] = run_smolab
    if skills in ("on", "both"):
        agents["smolab+skills"] = partial(run_smolab, skills=True)
    if peer:
        agents["smolagents CodeAgent"] = run_smolagents
    rows: dict[str, list[tuple[Task, Result]]] = {name: [] for name in agents}
    finished = _done_before(results)
    console = Console()
    for task in tasks:
        line = f"{task.tier:9} {task.name:22}"
        for name, run in agents.items():
            r = finished.get((name, task.name))
            if r is None:
                r = run(model, task, max_steps)
                if results is not None:
                    with results.open("a") as f:
                        f.write(json.dumps({"agent": name, "task": task.name, **asdict(r)}) + "\n")
            rows[name].append((task, r))
            mark = "ok " if r.ok else ("FALSE DONE" if r.done else "no ")
            line += f" | {name.split()[0]} {mark} {r.steps} steps {r.seconds:.0f}s"
        console.print(line, highlight=False)
    table = Table(title=f"{len(tasks)} tasks, {model.name}, at most {max_steps} steps each")
    for col in ("agent", "tier", "correct", "done but wrong", "steps parsed", "steps / task", "s / task"):
        table.add_column(col, justify="left" if col in ("agent", "tier") else "right")
    for name, results in rows.items():
        for tier in [*TIERS, "all"]:
            got = [r for t, r in results if tier in ("all", t.tier)]
            if not got:
                continue
            replies = sum(r.replies for r in got)
            table.add_row(
                name,
                tier,
                f"{sum(r.ok for r in got)}/{len(got)}",
                str(sum(r.done and not r.ok for r in got)),
                f"{sum(r.parsed for r in got)}/{replies}",
                f"{sum(r.steps for r in got) / len(got):.1f}",
                f"{sum(r.seconds for r in got) / len(got):.0f}",
            )
    console.print(table)
