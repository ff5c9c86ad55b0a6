"""Ten small tasks for the agent benchmark, each with its files and a check of the result,
run with an embedded model through smolab's agent and (``--peer``) smolagents' CodeAgent."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

Check = Callable[[Any, Path], bool]


@dataclass
class Task:
    name: str
    prompt: str
    files: dict[str, str] = field(default_factory=dict)
    check: Check = lambda answer, ws: False


def _num(x: Any) -> float | None:
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def _close(x: Any, want: float, tol: float = 1e-6) -> bool:
    v = _num(x)
    return v is not None and math.isclose(v, want, rel_tol=tol, abs_tol=tol)


def _means_ok(answer: Any, ws: Path) -> bool:
    want = {"a": 2.5, "b": 25.0, "c": 0.5}
    found = answer
    if not isinstance(found, dict) and (ws / "means.json").exists():
        try:
            found = json.loads((ws / "means.json").read_text())
        except ValueError:
            return False
    return isinstance(found, dict) and all(_close(found.get(k), v) for k, v in want.items())


def _fixed(answer: Any, ws: Path) -> bool:
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", str(ws)], capture_output=True, timeout=120, cwd=ws
    )
    return r.returncode == 0


def _prime_ok(answer: Any, ws: Path) -> bool:
    code = (
        "import sys; sys.path.insert(0, '.'); from utils import is_prime; "
        "assert [n for n in range(30) if is_prime(n)] == [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]"
    )
    return (
        subprocess.run([sys.executable, "-c", code], cwd=ws, capture_output=True, timeout=60).returncode == 0
    )


def _renamed(answer: Any, ws: Path) -> bool:
    out = ws / "out.csv"
    return out.exists() and out.read_text().splitlines()[:2] == ["id,value", "1,10"]


def _lr(answer: Any, ws: Path) -> bool:
    text = (ws / "config.yaml").read_text()
    return "lr: 0.001" in text and "epochs: 5" in text


TASKS = [
    Task(
        "csv-means",
        "data.csv has numeric columns a, b, c. Compute the mean of each column and give them as a dict "
        "{column: mean} with final_answer.",
        {"data.csv": "a,b,c\n1,10,0\n2,20,1\n3,30,0\n4,40,1\n"},
        _means_ok,
    ),
    Task(
        "count-lines",
        "How many lines does notes.txt have? Answer with the number.",
        {"notes.txt": "".join(f"note {i}\n" for i in range(37))},
        lambda a, ws: _close(a, 37),
    ),
    Task(
        "fix-test",
        "The test in test_calc.py fails. Fix the bug in calc.py so that it passes.",
        {
            "calc.py": "def add(a, b):\n    return a - b\n",
            "test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n",
        },
        _fixed,
    ),
    Task(
        "top-word",
        "Which word occurs most often in text.txt? Answer with the word.",
        {"text.txt": "the cat and the dog and the bird saw a cat\n"},
        lambda a, ws: str(a).strip().lower() == "the",
    ),
    Task(
        "filter-json",
        "records.json holds a list of {name, score}. Give the names with a score above 50, sorted "
        "alphabetically, as a list with final_answer.",
        {
            "records.json": json.dumps(
                [{"name": n, "score": s} for n, s in [("eve", 70), ("bob", 40), ("al", 90)]]
            )
        },
        lambda a, ws: a == ["al", "eve"],
    ),
    Task(
        "sum-squares",
        "Compute the sum of the squares of the integers from 1 to 100 and give it with final_answer.",
        {},
        lambda a, ws: _close(a, 338350),
    ),
    Task(
        "fit-line",
        "points.csv holds x,y points on a line. Fit y = w*x + b by least squares and give w "
        "with final_answer.",
        {"points.csv": "x,y\n" + "".join(f"{x},{3 * x + 2}\n" for x in range(10))},
        lambda a, ws: _close(a, 3.0, 1e-3),
    ),
    Task(
        "write-function",
        "Create utils.py with a function is_prime(n) that returns True when n is a prime number.",
        {},
        _prime_ok,
    ),
    Task(
        "rename-column",
        "In table.csv rename the column 'val' to 'value' and save the result as out.csv.",
        {"table.csv": "id,val\n1,10\n2,20\n"},
        _renamed,
    ),
    Task(
        "edit-config",
        "In config.yaml set the learning rate lr to 0.001; keep everything else.",
        {"config.yaml": "lr: 0.1\nepochs: 5\n"},
        _lr,
    ),
]


@dataclass
class Result:
    ok: bool
    steps: int
    replies: int
    parsed: int
    seconds: float


def _workspace(task: Task) -> Path:
    ws = Path(tempfile.mkdtemp(prefix=f"bench-{task.name}-"))
    for name, text in task.files.items():
        (ws / name).write_text(text)
    return ws


def run_smolab(model: Any, task: Task, max_steps: int) -> Result:
    from smolab.agent import AgentOptions, Budget, build, run_task
    from smolab.config import load_settings

    ws = _workspace(task)
    root = Path(tempfile.mkdtemp(prefix="bench-run-"))
    options = AgentOptions(budget=Budget(max_steps=max_steps), step_timeout=60)
    start = time.perf_counter()
    session = build(
        model, load_settings(home=root / "home"), ws, root / "run", task=task.prompt, options=options
    )
    outcome = run_task(session, task.prompt)
    seconds = time.perf_counter() - start
    events = [json.loads(line) for line in (root / "run" / "trajectory.jsonl").read_text().splitlines()]
    parsed = sum(e["type"] == "step" for e in events)
    replies = parsed + sum(e["type"] == "format_error" for e in events)
    try:
        ok = task.check(outcome.answer, ws)
    except Exception:
        ok = False
    return Result(ok, outcome.steps, replies, parsed, seconds)


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
    return Result(ok, len(steps), len(steps), len(steps) - bad, seconds)


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


def run_tasks(model_name: str, only: int | None, peer: bool, max_steps: int) -> None:
    from smolab.config import load_settings
    from smolab.models import load_model

    model = load_model(model_name, load_settings(temperature=0.0))
    tasks = TASKS[:only] if only else TASKS
    rows: dict[str, list[Result]] = {"smolab": []}
    if peer:
        rows["smolagents CodeAgent"] = []
    console = Console()
    for task in tasks:
        r = run_smolab(model, task, max_steps)
        rows["smolab"].append(r)
        line = (
            f"{task.name:15} smolab {'ok ' if r.ok else 'no '} {r.parsed}/{r.replies} parsed {r.seconds:.0f}s"
        )
        if peer:
            p = run_smolagents(model, task, max_steps)
            rows["smolagents CodeAgent"].append(p)
            line += f" | smolagents {'ok ' if p.ok else 'no '} {p.parsed}/{p.replies} parsed {p.seconds:.0f}s"
        console.print(line, highlight=False)
    table = Table(title=f"{len(tasks)} small tasks, {model.name}, at most {max_steps} steps each")
    for col in ("agent", "steps parsed", "tasks correct", "steps / task", "s / task"):
        table.add_column(col, justify="left" if col == "agent" else "right")
    for name, results in rows.items():
        replies = sum(r.replies for r in results)
        parsed = sum(r.parsed for r in results)
        table.add_row(
            name,
            f"{parsed}/{replies} ({100 * parsed / max(replies, 1):.0f}%)",
            f"{sum(r.ok for r in results)}/{len(results)}",
            f"{sum(r.steps for r in results) / len(results):.1f}",
            f"{sum(r.seconds for r in results) / len(results):.0f}",
        )
    console.print(table)
