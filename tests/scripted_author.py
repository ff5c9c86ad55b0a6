"""A scripted model that plays every role of the reproduce pipeline with canned answers.

It routes on what each prompt asks (the schema's title, or the ask's wording), writes a
small pure-Python repository (fast to verify), and can be told to inject a wrong import
that only a repair fixes, to crash at a given step, or to answer slowly.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from smolab.models import ChatDefaults, ChatModel, Message, ScriptedBackend
from smolab.models.types import GenerateParams

PAPER_TEX = r"""\documentclass{article}
\title{Gated Sums}
\begin{document}
\maketitle
\begin{abstract}We add a gated sum to a list of numbers.\end{abstract}
\section{Method}
The output is $y = x + \alpha h$ where $\alpha = 0.5$.
\begin{equation} y = x + \alpha h \end{equation}
We train for 3 steps with a learning rate of 0.1.
\section{Experiments}
We report the mean of the outputs.
\end{document}
"""

MODEL_GOOD = '''"""The gated sum."""


class GatedSum:
    def __init__(self, alpha: float = 0.5):
        self.alpha = alpha

    def forward(self, xs: list[float]) -> list[float]:
        return [x + self.alpha * x for x in xs]
'''

MODEL_BROKEN = MODEL_GOOD.replace(
    '"""The gated sum."""\n', '"""The gated sum."""\nfrom helpers import scale\n'
).replace("self.alpha * x for", "self.alpha * scale(x) for")

TRAIN = """from model import GatedSum


def train(steps: int, lr: float) -> float:
    m = GatedSum()
    loss = 1.0
    for _ in range(steps):
        loss = loss * (1 - lr)
        m.alpha -= lr * 0.01
    return loss
"""

MAIN = """import argparse

import yaml

from train import train


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--config", default="config.yaml")
    args = parser.parse_args()
    with open(args.config) as f:
        cfg = yaml.safe_load(f)
    if args.smoke:
        cfg.update(cfg["smoke"])
    print("loss", train(int(cfg.get("train_steps") or 3), float(cfg.get("learning_rate") or 0.1)))


if __name__ == "__main__":
    main()
"""

TESTS = """from model import GatedSum
from train import train


def test_forward_shape():
    assert len(GatedSum().forward([1.0, 2.0])) == 2


def test_training_lowers_the_loss():
    assert train(3, 0.1) < 1.0
"""

CODE = {"model.py": MODEL_GOOD, "train.py": TRAIN, "main.py": MAIN, "tests/test_method.py": TESTS}


def fenced(code: str) -> str:
    return f"Here is the file.\n```python\n{code}```\n"


@dataclass
class Author:
    broken_import: bool = False
    """Write model.py with an import of a module that does not exist; the repair fixes it."""
    crash_at: str | None = None
    """Raise when a prompt of this kind arrives (a step name as in :meth:`kind`)."""
    delay: float = 0.0
    garble: str | None = None
    """Answer the first request for this file with code that does not parse."""
    contribution: str = "other"
    """The kind of contribution it says the paper makes ("other": the free plan, no blueprint)."""
    data: str = "vector"
    method: str = ""
    """The method.py it writes into a blueprint."""
    fresh_methods: list[str] = field(default_factory=list)
    """The method.py it writes when asked afresh after failing (one per ask; the last repeats)."""
    repaired_method: str = ""
    """The method.py it answers a repair of method.py with."""
    reference: str = ""
    """The reference.py it writes from the equations (none: a reply that is not code)."""
    class_reference: str = ""
    """A first reply for reference.py that defines a class and no function."""
    sampled_references: list[str] = field(default_factory=list)
    """The reference.py it writes when asked again (one per ask; the last repeats)."""
    unit_fixes: dict[str, str | list[str]] = field(default_factory=dict)
    """Replies to the repair of one function or method, by its qualified name."""
    asked: list[str] = field(default_factory=list)

    @staticmethod
    def kind(messages: Sequence[Message], params: GenerateParams) -> str:
        title = (params.json_schema or {}).get("title")
        if title:
            return str(title)
        ask = messages[-1].content
        if m := re.search(r"A first attempt at (\S+) did not parse", ask):
            return "retry:" + m.group(1)
        if m := re.search(r"Write the detailed design of (\S+):", ask):
            return f"analyze:{m.group(1)}"
        if "Implement the paper's method as `method.py`" in ask:
            return "generate:method.py"
        if m := re.search(r"Write the complete file (\S+)\.", ask):
            return f"generate:{m.group(1)}"
        if "Reply with the complete reference.py" in ask:
            return "generate:reference.py"
        if "Write tests/test_method.py" in ask:
            return "generate:tests/test_method.py"
        if m := re.search(r"Fix `(\S+)` so the error goes away", ask):
            return f"repair-unit:{m.group(1)}"
        if m := re.search(r"Fix (\S+) so the check passes", ask):
            return f"repair:{m.group(1)}"
        if "Answer with the kind's name only." in ask:
            return "classify:kind"
        if "what problem" in ask:
            return "overview:problem"
        if "architecture with its sizes" in ask:
            return "overview:architecture"
        if "List the parts" in ask:
            return "overview:steps"
        return "other"

    def __call__(self, messages: Sequence[Message], params: GenerateParams) -> str:
        kind = self.kind(messages, params)
        self.asked.append(kind)
        if self.delay:
            time.sleep(self.delay)
        if self.crash_at and kind == self.crash_at:
            raise RuntimeError(f"crash injected at {kind}")
        return self.answer(kind, messages)

    def answer(self, kind: str, messages: Sequence[Message]) -> str:
        if kind in ("ChunkDigest", "ChunkFacts"):
            n = re.search(r"\(S(\d+)\) We train for 3 steps", messages[-1].content)
            return json.dumps(
                {
                    "problem": "gated sums",
                    "method_steps": ["compute y = x + alpha h"],
                    "architecture": "one gated sum",
                    "losses": [],
                    "datasets": [],
                    "metrics": ["mean"],
                    "hyperparameters": [
                        {"name": "train steps", "value": "3", "sentence": int(n.group(1)) if n else 0}
                    ],
                    "unclear": ["what h is"],
                }
            )
        if kind == "Proposal":
            return json.dumps({"proposes": "a gated sum", "data": self.data, "name": "gated sums"})
        if kind == "classify:kind":
            return self.contribution
        if kind == "generate:method.py":
            later = self.asked.count(kind) - 1
            if later and self.fresh_methods:
                return fenced(self.fresh_methods[min(later, len(self.fresh_methods)) - 1])
            return fenced(self.method)
        if kind == "generate:reference.py":
            asked = self.asked.count(kind)
            if self.class_reference and asked == 1:
                return fenced(self.class_reference)  # a class first, where a function was asked
            if self.sampled_references and asked > 1:
                return fenced(self.sampled_references[min(asked - 1, len(self.sampled_references)) - 1])
            return fenced(self.reference) if self.reference else "I cannot."
        if kind.startswith("repair-unit:"):
            # A list holds one reply per time the unit is asked (the last one repeats).
            fix = self.unit_fixes.get(kind.split(":", 1)[1], "pass\n")
            if isinstance(fix, list):
                fix = fix[min(self.asked.count(kind), len(fix)) - 1]
            return fenced(fix)
        if kind == "repair:method.py":
            return fenced(self.repaired_method or self.method)
        if kind == "Stated":
            return json.dumps({"value": "unknown", "sentence": 0})
        if kind.startswith("overview:"):
            return {
                "problem": "Adding a gated sum.",
                "architecture": "A single gated sum with alpha 0.5.",
            }.get(kind.split(":")[1], "1. GatedSum class\n2. Training loop")
        if kind == "OverallPlan":
            return json.dumps(
                {
                    "summary": "A gated sum and its training loop.",
                    "components": ["GatedSum", "training loop"],
                    "training": "3 steps, learning rate 0.1",
                    "evaluation": ["mean output"],
                }
            )
        if kind == "Architecture":
            return json.dumps(
                {
                    "files": [
                        {"name": "main.py", "purpose": "entry point"},
                        {"name": "train.py", "purpose": "training loop"},
                        {"name": "model.py", "purpose": "the gated sum"},
                    ],
                    "classes": [{"name": "GatedSum", "file": "model.py", "methods": ["forward"]}],
                    "calls": [{"caller": "main", "callee": "train", "message": "train(steps, lr)"}],
                }
            )
        if kind == "Logic":
            return json.dumps(
                {
                    "packages": ["pyyaml"],
                    "files": [
                        {"name": "main.py", "depends_on": ["train.py"], "logic": "parse args, train"},
                        {"name": "train.py", "depends_on": ["model.py"], "logic": "loop"},
                        {"name": "model.py", "depends_on": [], "logic": "gated sum"},
                    ],
                    "shared": ["alpha = 0.5"],
                }
            )
        if kind.startswith("analyze:"):
            return f"The design of {kind.split(':')[1]}: small and simple."
        if kind.startswith("retry:"):
            name = kind.split(":")[1]
            if name == "reference.py":
                return fenced(self.reference) if self.reference else "I cannot."
            return fenced(self.method if name == "method.py" else CODE[name])
        if kind.startswith("generate:"):
            name = kind.split(":")[1]
            if name == self.garble and self.asked.count(kind) == 1:
                return fenced("def broken(:\n    pass\n")
            if name == "model.py" and self.broken_import:
                return fenced(MODEL_BROKEN)
            return fenced(CODE[name])
        if kind.startswith("repair:"):
            return fenced(CODE[kind.split(":")[1]])
        return "I do not know."


def author_model(author: Author, window: int = 16384) -> ChatModel:
    return ChatModel(ScriptedBackend(context_window=window, fallback=author), ChatDefaults(max_repairs=1))
