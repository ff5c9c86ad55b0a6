"""Prompt tokens of a reproduce run against what a Paper2Code-style run sends for the same paper.

smolab's figures are the run's own: every model call's prompt tokens, from its trajectory
(and how many of them the local model took from its cached prefix). The Paper2Code-style
figure is counted with the same tokenizer over the same run's artifacts, laid out as
Paper2Code lays out its prompts: the whole paper in every planning, analysis and coding
prompt; planning as one growing conversation (plan, architecture, logic, config); every
analysis prompt with the whole plan; every coding prompt with the plan, the file's
analysis and the full text of every file written before it.

    .venv/bin/python bench/reproduce.py --run runs/attention
    .venv/bin/python bench/reproduce.py --paper examples/gated-residual-mlp.tex   # runs it first
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import defaultdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

from smolab.config import load_settings
from smolab.models import Message, load_model
from smolab.paper import Paper
from smolab.reproduce import Options, reproduce
from smolab.reproduce import generate as gen
from smolab.reproduce import plan as pl


def ours(run: Path) -> dict[str, tuple[int, int]]:
    """(prompt tokens, of them cached) per stage, from the trajectory."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for line in (run / ".smolab" / "trajectory.jsonl").read_text().splitlines():
        call = json.loads(line)
        totals[call["stage"]][0] += call["prompt_tokens"]
        totals[call["stage"]][1] += call["cached_tokens"]
    return {k: (v[0], v[1]) for k, v in totals.items()}


def paper2code_style(run: Path, count) -> dict[str, int]:
    meta = run / ".smolab"
    paper = Paper.model_validate_json((meta / "paper.json").read_text())
    whole = paper.model_dump_json()  # Paper2Code sends the parsed paper's JSON
    planning = [
        (pl.PLAN_ASK, (meta / "plan.json").read_text()),
        (pl.ARCHITECTURE_ASK, (meta / "architecture.json").read_text()),
        (pl.LOGIC_ASK, (meta / "logic.json").read_text()),
        ("Write config.yaml with the paper's hyper-parameters.", (run / "config.yaml").read_text()),
    ]
    tokens = {"plan": 0, "analyze": 0, "generate": 0}
    conversation = [Message("system", pl.ROLE), Message("user", f"Paper:\n{whole}")]
    for ask, reply in planning:
        conversation.append(Message("user", ask))
        tokens["plan"] += count(conversation)
        conversation.append(Message("assistant", reply))
    plan_text = "\n\n".join(reply for _, reply in planning)
    order = json.loads((meta / "steps" / "plan__logic.json").read_text())["result"]["order"]
    files = [*order, gen.TEST_FILE]
    written = ""
    for name in files:
        analysis_path = meta / "analysis" / f"{name}.md"
        analysis = analysis_path.read_text() if analysis_path.exists() else ""
        base = [Message("system", pl.ROLE), Message("user", f"Paper:\n{whole}\n\nPlan:\n{plan_text}")]
        tokens["analyze"] += count([*base, Message("user", gen.analysis_ask(name, "", ""))])
        code_prompt = f"Files written so far:\n{written}\n\nAnalysis of {name}:\n{analysis}\n\nWrite {name}."
        tokens["generate"] += count([*base, Message("user", code_prompt)])
        code = (run / name).read_text() if (run / name).exists() else ""
        written += f"\n```python\n# {name}\n{code}```\n"
    return tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, help="a finished run's folder")
    parser.add_argument("--paper", help="run the pipeline on this paper first (with --model)")
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    settings = load_settings(model=args.model)
    if args.run is None and args.paper is None:
        parser.error("give --run DIR or --paper PAPER")
    run = args.run
    if run is None:
        run = Path(tempfile.mkdtemp(prefix="smolab-bench-")) / "repo"
        reproduce(args.paper, run, load_model(settings=settings), options=Options())
    info = json.loads((run / ".smolab" / "run.json").read_text())
    model = load_model(info["model"], settings)

    def count(messages: list[Message]) -> int:
        return model.count_tokens(messages)

    mine = ours(run)
    theirs = paper2code_style(run, count)
    table = Table(title=f"prompt tokens per paper · {info['paper']} · tokenizer of {info['model']}")
    for col in ("stage", "smolab sent", "of them from cache", "Paper2Code-style", "ratio"):
        table.add_column(col, justify="left" if col == "stage" else "right")
    for stage in ("digest", "plan", "analyze", "generate", "repair"):
        sent, cached = mine.get(stage, (0, 0))
        other = theirs.get(stage)
        ratio = f"{sent / other:.2f}" if other else "-"
        table.add_row(stage, f"{sent:,}", f"{cached:,}", f"{other:,}" if other is not None else "-", ratio)
    total_mine = sum(v[0] for v in mine.values())
    total_cached = sum(v[1] for v in mine.values())
    total_theirs = sum(theirs.values())
    table.add_row(
        "total",
        f"{total_mine:,}",
        f"{total_cached:,}",
        f"{total_theirs:,}",
        f"[bold]{total_mine / total_theirs:.2f}[/bold]",
    )
    Console().print(table)
    Console().print(
        "smolab's total includes its digest (the paper read once, in chunks) and every repair call; "
        "Paper2Code-style has neither."
    )


if __name__ == "__main__":
    main()
