"""The agent, side by side with smolagents' CodeAgent in the same run.

overhead   framework time per step, model time excluded: both agents are driven by the same
           scripted model (replies known in advance) through the same 20-step task, each step
           calling one tool and printing. Per step = (time of a 40-step run - time of the
           20-step run) / 20, so one-time set-up (smolab starts its sandbox, ~70 ms) is
           reported apart. smolab's figure includes its real isolation (a bubblewrap sandbox,
           tools called back over a pipe, a trajectory line per step); smolagents runs the
           code in-process with its AST interpreter.
tasks      with an embedded model, 10 small tasks the project wrote (bench/agent_tasks.py):
           how often a step parses, how often the task ends with a correct result, steps and
           seconds per task; and the parse rate of smolagents' CodeAgent driven by the same
           model through the same tasks.

    .venv/bin/python bench/agent.py overhead
    .venv/bin/python bench/agent.py tasks --model qwen2.5-coder-0.5b [--only 3] [--peer]
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


def square(n: int) -> int:
    """The square of n.

    Args:
        n: the number to square
    """
    return n * n


def smolab_run(steps: int) -> float:
    """Seconds for a whole ``steps``-step run, set-up included."""
    from smolab.agent import AgentOptions, Budget, build, make_tool, run_task
    from smolab.config import load_settings
    from smolab.models import ChatModel, ScriptedBackend

    replies = [f"Thought: step {i}.\n```python\nv = square({i})\nprint(v)\n```" for i in range(steps - 1)]
    replies.append("Thought: done.\n```python\nfinal_answer(v)\n```")
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        model = ChatModel(ScriptedBackend(replies))
        options = AgentOptions(budget=Budget(max_steps=steps + 2))
        start = time.perf_counter()
        settings = load_settings(home=root / "home")
        session = build(model, settings, root / "ws", root / "run", task="t", options=options)
        session.agent.toolbox.add(make_tool(square))
        outcome = run_task(session, "t")
        seconds = time.perf_counter() - start
    assert outcome.answer == (steps - 2) ** 2 and outcome.steps == steps, outcome
    return seconds


def smolagents_run(steps: int) -> float:
    from smolagents import CodeAgent, Model, tool
    from smolagents.models import ChatMessage, MessageRole
    from smolagents.monitoring import LogLevel, TokenUsage

    sq = tool(square)

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

    replies = [f"Thought: step {i}.\n<code>\nv = square({i})\nprint(v)\n</code>" for i in range(steps - 1)]
    replies.append("Thought: done.\n<code>\nfinal_answer(v)\n</code>")
    start = time.perf_counter()
    agent = CodeAgent(tools=[sq], model=Scripted(replies), max_steps=steps + 2, verbosity_level=LogLevel.OFF)
    answer = agent.run("t")
    seconds = time.perf_counter() - start
    assert answer == (steps - 2) ** 2 and len(agent.memory.steps) >= steps, answer
    return seconds


def measure(run, reps: int) -> tuple[float, float]:
    """(ms per step, ms of one-time set-up), medians over ``reps`` pairs of runs."""
    per_step, setup = [], []
    for _ in range(reps):
        short, long = run(STEPS), run(2 * STEPS)
        step = (long - short) / STEPS
        per_step.append(step * 1000)
        setup.append((short - STEPS * step) * 1000)
    return statistics.median(per_step), statistics.median(setup)


def overhead(reps: int) -> None:
    smolab_run(STEPS)  # warm imports and caches on both sides before timing
    smolagents_run(STEPS)
    a, a_setup = measure(smolab_run, reps)
    b, b_setup = measure(smolagents_run, reps)
    table = Table(
        title=f"Framework overhead, scripted model, {STEPS} and {2 * STEPS}-step runs, median of {reps}"
    )
    table.add_column("agent")
    table.add_column("ms / step", justify="right")
    table.add_column("set-up ms (once)", justify="right")
    table.add_column("isolation")
    table.add_row("smolab", f"{a:.2f}", f"{a_setup:.0f}", "bubblewrap namespaces, separate process")
    table.add_row("smolagents CodeAgent", f"{b:.2f}", f"{b_setup:.0f}", "none (in-process AST interpreter)")
    Console().print(table)
    Console().print(f"per step, smolab / smolagents: {a / b:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="what", required=True)
    o = sub.add_parser("overhead")
    o.add_argument("--reps", type=int, default=5)
    t = sub.add_parser("tasks")
    t.add_argument("--model", default="qwen2.5-coder-0.5b")
    t.add_argument("--only", type=int, default=None, help="run the first N tasks")
    t.add_argument("--peer", action="store_true", help="also drive smolagents' CodeAgent with the model")
    t.add_argument("--max-steps", type=int, default=6)
    args = parser.parse_args()
    if args.what == "overhead":
        overhead(args.reps)
    else:
        from agent_tasks import run_tasks

        run_tasks(args.model, args.only, args.peer, args.max_steps)


if __name__ == "__main__":
    main()
