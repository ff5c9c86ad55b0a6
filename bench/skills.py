"""Skill selection: BM25 against sentence embeddings (all-MiniLM-L6-v2), for accuracy and speed.

A labelled set of tasks, each written as a paper's or user's words about a mechanism (never a
skill's own description), names the skill it needs. Each ranker picks from the built-in skills,
then from the same skills hidden among 10,000 generated ones (agent instructions for unrelated
jobs); top-1 and top-3 accuracy on both, the index build time, and per-query latency (p50, p95)
at 10,000 skills.

    .venv/bin/python bench/skills.py
    .venv/bin/python bench/skills.py --distractors 2000
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from smolab.skills import Skill, SkillLibrary
from smolab.skills.guide import Guide
from smolab.skills.select import BM25Ranker, EmbeddingRanker, Ranker, rank

LABELLED: list[tuple[str, str]] = [
    ("a smooth non-monotonic function applied to each unit, x times a sigmoid of a scaled x", "activation"),
    ("replaces ReLU in every layer with a new pointwise nonlinearity", "activation"),
    ("statistics computed over groups of channels instead of the batch", "normalization"),
    ("rescales hidden features by their root mean square, without centering", "normalization"),
    ("a block that gates its branch with a learned scalar and adds the input back", "layer"),
    ("a channel attention unit: global pooling, a bottleneck, sigmoid weights on the channels", "layer"),
    ("a network family that scales depth, width and resolution together", "architecture"),
    ("a convolutional network where every layer receives all earlier feature maps", "architecture"),
    ("an update rule that adapts the step per parameter using moment estimates", "optimizer"),
    ("layer-wise trust ratio on top of Adam for large-batch training", "optimizer"),
    ("a learning-rate policy with warm restarts following a cosine curve", "schedule"),
    ("linear warm-up of the step size, then decay proportional to the inverse square root", "schedule"),
    ("a training objective that pulls features toward learned per-class centers", "loss"),
    ("down-weights easy examples in cross-entropy with a focusing parameter", "loss"),
    ("randomly masks out square regions of the input images during training", "augmentation"),
    ("mixes pairs of training examples and their labels with a random ratio", "augmentation"),
    ("randomly drops units during training to prevent co-adaptation", "regularizer"),
    ("adds a penalty on the weights so the network stays smooth", "regularizer"),
    ("trains a small student to match the softened outputs of a large teacher", "distillation"),
    ("transfers attention maps from a teacher network to the student", "distillation"),
    ("learns representations by pulling two augmented views together against negatives", "contrastive"),
    ("self-supervised pre-training with a momentum encoder and a queue of negatives", "contrastive"),
    ("a critic with a gradient penalty for stable adversarial training", "generative"),
    ("a denoising diffusion model trained to predict the added noise", "generative"),
    ("fine-tunes a frozen pretrained model through small bottleneck modules in each layer", "peft"),
    ("low-rank updates added to frozen weight matrices for cheap fine-tuning", "peft"),
]

USES: list[tuple[str, str, str | None]] = [
    # (use, the task or the failing error, the instruction skill it needs; None: none fits)
    ("agent", "evaluate.py raises KeyError: 'label' on line 40; make the script work", "fix-failing-script"),
    (
        "agent",
        "the program prints the wrong total; find the bug in report.py and correct it",
        "fix-failing-script",
    ),
    ("agent", "which region has the highest average revenue in data/orders.csv?", "tabular-data"),
    ("agent", "count the rows with a missing age in people.csv and report the median income", "tabular-data"),
    (
        "agent",
        "my model's loss explodes to NaN after a few hundred steps; stabilise the training",
        "torch-training-loop",
    ),
    (
        "agent",
        "train a small MLP on the digits and report its held-out accuracy after five epochs",
        "torch-training-loop",
    ),
    ("agent", "save a YAML config with the batch size and learning rate as config.yaml", "write-files"),
    ("agent", "write results.json holding the accuracy and the number of parameters", "write-files"),
    ("agent", "What is the capital of Australia?", None),
    ("agent", "How many prime numbers are there below 1000?", None),
    ("agent", "Summarise the abstract of the paper in two sentences.", None),
    (
        "repair",
        "RuntimeError: mat1 and mat2 shapes cannot be multiplied (32x512 and 256x10)",
        "repair-shape-mismatch",
    ),
    (
        "repair",
        "RuntimeError: shape '[8, -1, 64]' is invalid for input of size 1000",
        "repair-shape-mismatch",
    ),
    (
        "repair",
        "RuntimeError: Given groups=1, expected input to have 3 channels, but got 1 channels",
        "repair-shape-mismatch",
    ),
    ("repair", "RuntimeError: expected scalar type Long but found Float", "repair-dtype-device"),
    (
        "repair",
        "RuntimeError: result type Float can't be cast to the desired output type Long",
        "repair-dtype-device",
    ),
    ("repair", "NameError: name 'nn' is not defined", "repair-missing-name"),
    ("repair", "AttributeError: 'Block' object has no attribute 'proj'", "repair-missing-name"),
    ("repair", "ImportError: cannot import name 'GatedUnit' from 'method'", "repair-missing-name"),
    (
        "repair",
        "E       AssertionError: assert 0.731 == 0.5\nE        +  where 0.731 = f(0.0)",
        "repair-failing-assertion",
    ),
    ("repair", "E       assert torch.allclose(out, expected)", "repair-failing-assertion"),
    ("repair", "TimeoutError: the step ran past 120 s", None),
    ("repair", "SyntaxError: unexpected EOF while parsing", None),
]
"""Instruction skills chosen for a use (``Guide``), including tasks and errors none fits."""

VERBS = [
    "Format",
    "Deploy",
    "Summarise",
    "Translate",
    "Audit",
    "Migrate",
    "Schedule",
    "Draft",
    "Index",
    "Plot",
]
OBJECTS = [
    "BibTeX entries",
    "Kubernetes manifests",
    "meeting notes",
    "SQL migrations",
    "invoices",
    "press releases",
    "Dockerfiles",
    "test fixtures",
    "spreadsheets",
    "release notes",
    "API changelogs",
    "log files",
    "customer e-mails",
    "Terraform plans",
    "design documents",
    "shell scripts",
    "survey answers",
    "slide decks",
    "YAML configs",
    "git histories",
]
CONTEXTS = [
    "for a conference deadline",
    "in a monorepo",
    "for a legal review",
    "with strict style rules",
    "before a release",
    "for a small team",
    "across time zones",
    "for accessibility",
    "on a budget",
    "for an audit trail",
    "in French",
    "for mobile screens",
    "with minimal downtime",
    "for a newsletter",
    "from a CSV export",
    "for an onboarding guide",
    "with a checklist",
    "for compliance",
    "at scale",
    "with examples",
    "for beginners",
    "for a dashboard",
    "without network access",
    "in one page",
    "for a grant report",
    "with version pinning",
    "for a hackathon",
    "under a time limit",
    "for a retro",
    "with citations",
    "for a data room",
    "in plain language",
    "with diagrams",
    "for a handover",
    "from voice memos",
    "for an RFC",
    "with error budgets",
    "for a museum",
    "for a kitchen",
    "for a clinic",
    "with a rollback plan",
    "for a podcast",
    "for a school",
    "for a warehouse",
    "for a charity",
    "for a bank",
    "for a game studio",
    "for a lab notebook",
    "for a startup",
]


def distractors(n: int, seed: int = 0) -> list[Skill]:
    combos = list(itertools.product(VERBS, OBJECTS, CONTEXTS))
    random.Random(seed).shuffle(combos)
    out = []
    for i, (verb, obj, ctx) in enumerate(itertools.islice(itertools.cycle(combos), n)):
        name = f"{verb.lower()}-{obj.lower().replace(' ', '-')}-{i}"
        out.append(Skill(name=name, description=f"{verb} {obj} {ctx}.", path=Path("/dev/null"), body=""))
    return out


def accuracy(
    ranker: Ranker, skills: list[Skill], by_kind: dict[str, str]
) -> tuple[float, float, list[float]]:
    top1 = top3 = 0
    latencies = []
    for query, kind in LABELLED:
        start = time.perf_counter()
        ranked = [c.skill.name for c in rank(query, skills, ranker)]
        latencies.append((time.perf_counter() - start) * 1000)
        top1 += ranked[0] == by_kind[kind]
        top3 += by_kind[kind] in ranked[:3]
    return top1 / len(LABELLED), top3 / len(LABELLED), latencies


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--distractors", type=int, default=10_000)
    args = ap.parse_args()
    lib = SkillLibrary()
    builtin = list(lib)
    by_kind = {kind: skill.name for kind, skill in lib.blueprints().items()}
    big = builtin + distractors(args.distractors)
    table = Table(
        title=f"skill selection: {len(LABELLED)} labelled tasks, {len(builtin)} skills, then {len(big):,}"
    )
    for col in (
        "ranker",
        "top-1",
        "top-3",
        f"top-1 at {len(big):,}",
        f"top-3 at {len(big):,}",
        "index s",
        "p50 ms",
        "p95 ms",
    ):
        table.add_column(col, justify="right" if col != "ranker" else "left")
    for ranker in (BM25Ranker(), EmbeddingRanker()):
        small1, small3, _ = accuracy(ranker, builtin, by_kind)
        start = time.perf_counter()
        rank("warm the index", big, ranker)
        built = time.perf_counter() - start
        big1, big3, lat = accuracy(ranker, big, by_kind)
        q = statistics.quantiles(lat, n=20)
        table.add_row(
            ranker.name,
            f"{small1:.0%}",
            f"{small3:.0%}",
            f"{big1:.0%}",
            f"{big3:.0%}",
            f"{built:.1f}",
            f"{statistics.median(lat):.1f}",
            f"{q[18]:.1f}",
        )
    Console().print(table)
    Console().print(uses_table(builtin))


def uses_table(skills: list[Skill]) -> Table:
    """Instruction skills chosen for the agent's tasks and repair's errors, with the floor: the
    right one first, and nothing where nothing fits."""
    table = Table(title=f"instruction skills chosen for a use: {len(USES)} labelled tasks and errors")
    for col in ("ranker", "right skill first", "nothing where none fits", "wrong skill told", "p50 ms"):
        table.add_column(col, justify="right" if col != "ranker" else "left")
    for ranker in (BM25Ranker(), EmbeddingRanker()):
        guide = Guide(skills, ranker=ranker)
        right = silent = wrong = 0
        latencies = []
        for use, query, wanted in USES:
            start = time.perf_counter()
            chosen = [c.skill.name for c in guide.choose(use, query, most=1)]
            latencies.append((time.perf_counter() - start) * 1000)
            if wanted is None:
                silent += not chosen
                wrong += bool(chosen)
            else:
                right += chosen == [wanted]
                wrong += bool(chosen) and chosen != [wanted]
        fits = sum(w is not None for _, _, w in USES)
        table.add_row(
            ranker.name,
            f"{right}/{fits}",
            f"{silent}/{len(USES) - fits}",
            str(wrong),
            f"{statistics.median(latencies):.1f}",
        )
    return table


if __name__ == "__main__":
    main()
