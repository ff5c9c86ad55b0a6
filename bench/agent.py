"""The agent, side by side with smolagents' CodeAgent in the same run.

overhead   framework time per step, model time excluded: both agents are driven by the same
           scripted model (replies known in advance) through the same 20-step task, in two
           profiles: "minimal" steps (one tool call and a print) and "data" steps (read a
           500-row CSV through a tool, parse, column means, scale, write through a tool).
           Per step = (time of a 40-step run - time of the 20-step run) / 20, so one-time
           set-up (smolab starts its sandbox, ~70 ms) is reported apart. smolab's figure
           includes its real isolation (a bubblewrap sandbox, tools called back over a pipe,
           a trajectory line per step); smolagents runs the code in-process with its AST
           interpreter.
tasks      with an embedded model, 30 tasks the project wrote (bench/agenttasks/) in three
           tiers of ten: questions, files and data, ML work (train to an accuracy, implement
           from a docstring, fix a diverging loop or a crash, a data loader, a reproduced
           repository's failing test). Each result is checked on disk or by running it,
           never by the answer's words. Per tier: tasks correct, runs that ended as done
           while their check fails, steps parsed, steps and seconds per task; with --peer the
           same for smolagents' CodeAgent driven by the same model.

    .venv/bin/python bench/agent.py overhead
    .venv/bin/python bench/agent.py tasks [--model qwen2.5-coder-0.5b] [--only ml fix-test] [--peer]
    .venv/bin/python bench/agent.py tasks --json runs/agent-1.5b.jsonl   # resumable
    .venv/bin/python bench/agent.py tasks --skills both   # each task with and without its skills
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))

STEPS = 20
ROWS = 500
DATA = "a,b,c,d\n" + "".join(f"{i % 7 + 1},{i % 11 + 2},{i % 13 + 3},{i % 17 + 4}\n" for i in range(ROWS))

# The same steps for both agents. "minimal": one tool call and a print, the least a step can
# do. "data": a data-wrangling cycle an ML agent runs (read a CSV through a tool, parse it,
# column means, scale, write the result through a tool), on 500 rows.
PROFILES = {
    "minimal": ["v = square({i})\nprint(v)"],
    "data": [
        'text = read_file("data.csv")\nprint({i}, len(text))',
        'rows = [line.split(",") for line in text.splitlines()[1:]]\nprint({i}, len(rows))',
        "means = [sum(float(r[j]) for r in rows) / len(rows) for j in range(4)]\nprint({i}, means)",
        "scaled = [[float(r[j]) / means[j] for j in range(4)] for r in rows]\nprint({i}, len(scaled))",
        'out = "\\n".join(",".join(f"{v:.4f}" for v in r) for r in scaled)\n'
        'print({i}, write_file("scaled.csv", out))',
    ],
}


def codes(profile: str, steps: int) -> list[str]:
    cycle = PROFILES[profile]
    out = [cycle[i % len(cycle)].replace("{i}", str(i)) for i in range(steps - 1)]
    return [*out, "final_answer(len(text))" if profile == "data" else "final_answer(v)"]


def expected(profile: str, steps: int) -> int:
    return len(DATA) if profile == "data" else (steps - 2) ** 2


def square(n: int) -> int:
    """The square of n.

    Args:
        n: the number to square
    """
    return n * n


class WholeReplies:
    """A scripted model that hands over each reply whole, as the smolagents side's does (the
    test suite's ScriptedBackend streams word by word, which would be model time here)."""

    name = "scripted"
    context_window = 32768
    exact_token_count = False

    def __init__(self, replies: list[str]):
        self.replies = replies

    def count_tokens(self, messages) -> int:
        return sum(len(m.content) // 4 + 4 for m in messages)

    def generate(self, messages, params):
        from smolab.models import Chunk, Usage

        text = self.replies.pop(0)
        yield Chunk(text)
        yield Chunk("", usage=Usage(completion_tokens=len(text) // 4), finish_reason="stop")


def smolab_run(profile: str, steps: int) -> float:
    """Seconds for a whole ``steps``-step run, set-up included."""
    from smolab.agent import AgentOptions, Budget, build, make_tool, run_task
    from smolab.config import load_settings
    from smolab.models import ChatModel

    replies = [f"Thought: step {i}.\n```python\n{code}\n```" for i, code in enumerate(codes(profile, steps))]
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        (root / "ws").mkdir()
        (root / "ws" / "data.csv").write_text(DATA)
        model = ChatModel(WholeReplies(replies))
        options = AgentOptions(budget=Budget(max_steps=steps + 2))
        start = time.perf_counter()
        settings = load_settings(home=root / "home")
        session = build(model, settings, root / "ws", root / "run", task="t", options=options)
        session.agent.toolbox.add(make_tool(square))
        outcome = run_task(session, "t")
        seconds = time.perf_counter() - start
    assert outcome.answer == expected(profile, steps) and outcome.steps == steps, outcome
    return seconds


def smolagents_run(profile: str, steps: int) -> float:
    from smolagents import CodeAgent, Model, tool
    from smolagents.models import ChatMessage, MessageRole
    from smolagents.monitoring import LogLevel, TokenUsage

    folder = Path(tempfile.mkdtemp())
    (folder / "data.csv").write_text(DATA)

    @tool
    def read_file(path: str) -> str:
        """Read a text file.

        Args:
            path: the file, relative to the workspace
        """
        return (folder / path).read_text()

    @tool
    def write_file(path: str, content: str) -> str:
        """Write a text file.

        Args:
            path: the file, relative to the workspace
            content: what to write
        """
        (folder / path).write_text(content)
        return f"wrote {len(content)} characters to {path}"

    class Scripted(Model):
        def __init__(self, replies: list[str]):
            super().__init__(model_id="scripted")
            self.replies = replies

        def generate(
            self, messages, stop_sequences=None, response_format=None, tools_to_call_from=None, **kw
        ):
            return ChatMessage(
                role=MessageRole.ASSISTANT,
                content=self.replies.pop(0),
                token_usage=TokenUsage(input_tokens=0, output_tokens=0),
            )

    replies = [f"Thought: step {i}.\n<code>\n{code}\n</code>" for i, code in enumerate(codes(profile, steps))]
    start = time.perf_counter()
    agent = CodeAgent(
        tools=[tool(square), read_file, write_file],
        model=Scripted(replies),
        max_steps=steps + 2,
        verbosity_level=LogLevel.OFF,
    )
    answer = agent.run("t")
    seconds = time.perf_counter() - start
    assert answer == expected(profile, steps) and len(agent.memory.steps) >= steps, answer
    return seconds


def measure(run, profile: str, reps: int) -> tuple[float, float]:
    """(ms per step, ms of one-time set-up), medians over ``reps`` pairs of runs."""
    per_step, setup = [], []
    for _ in range(reps):
        short, long = run(profile, STEPS), run(profile, 2 * STEPS)
        step = (long - short) / STEPS
        per_step.append(step * 1000)
        setup.append((short - STEPS * step) * 1000)
    return statistics.median(per_step), statistics.median(setup)


def overhead(reps: int) -> None:
    for profile in PROFILES:  # warm imports and caches on both sides before timing
        smolab_run(profile, STEPS)
        smolagents_run(profile, STEPS)
    table = Table(
        title=f"Framework time per step, scripted model, {STEPS}- and {2 * STEPS}-step runs, median of {reps}"
    )
    for col in ("steps", "smolab ms/step", "smolagents ms/step", "ratio", "set-up ms: smolab", "smolagents"):
        table.add_column(col, justify="left" if col == "steps" else "right")
    for profile in PROFILES:
        a, a_setup = measure(smolab_run, profile, reps)
        b, b_setup = measure(smolagents_run, profile, reps)
        table.add_row(profile, f"{a:.2f}", f"{b:.2f}", f"{a / b:.2f}", f"{a_setup:.0f}", f"{b_setup:.0f}")
    Console().print(table)
    Console().print(
        "smolab runs each step in a bubblewrap sandbox (a separate CPython process; tools called back "
        "over a pipe; a trajectory line per step); smolagents interprets it in-process, unisolated."
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="what", required=True)
    o = sub.add_parser("overhead")
    o.add_argument("--reps", type=int, default=5)
    t = sub.add_parser("tasks")
    t.add_argument("--model", default="qwen2.5-coder-1.5b")
    t.add_argument("--only", nargs="*", default=None, help="tiers (questions, files, ml) or task names")
    t.add_argument("--peer", action="store_true", help="also drive smolagents' CodeAgent with the model")
    t.add_argument("--max-steps", type=int, default=10)
    t.add_argument("--json", type=Path, default=None, help="append results here; finished ones are read back")
    t.add_argument(
        "--skills",
        choices=("on", "off", "both"),
        default="off",
        help="tell the instruction skills chosen for each task (both: each task with and without)",
    )
    args = parser.parse_args()
    if args.what == "overhead":
        overhead(args.reps)
    else:
        from agent_tasks import run_tasks

        run_tasks(args.model, args.only, args.peer, args.max_steps, args.json, args.skills)


if __name__ == "__main__":
    main()
