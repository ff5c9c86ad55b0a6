"""Planning: the overall plan, the architecture, the per-file logic, and config.yaml.

Each planning call sees the digest (never the whole paper) and what earlier
planning calls decided. Diagrams, the task order and config.yaml are derived by
smolab from the model's bounded answers, so they are always well-formed.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from ..paper.digest import UNKNOWN, Digest
from .schemas import Architecture, FileSpec, Logic, OverallPlan

ROLE = (
    "You are a senior machine-learning engineer. You turn a research paper into a small, runnable "
    "Python repository (PyTorch) that implements its method faithfully and runs on a CPU."
)

PLAN_ASK = "How should this paper's method be implemented in PyTorch? Fill in the plan."
ARCHITECTURE_ASK = (
    "Design the repository's Python files, at most 6: the model's parts, the data, training and "
    "evaluation, and main.py which runs them. Give the classes with their methods, and the order "
    "in which main.py calls things."
)
LOGIC_ASK = (
    "For each file of the design: the files of this repository it imports, and its logic step by "
    "step. Then the third-party packages, and what all files must agree on (names, shapes, settings)."
)


def preamble(digest: str, plan: str = "") -> str:
    """The system prompt every stage shares, so a local model reuses its cached prefix."""
    text = f"{ROLE}\n\nPaper digest:\n{digest}"
    return f"{text}\n\nImplementation plan:\n{plan}" if plan else text


def render_overall(p: OverallPlan) -> str:
    lines = [f"Summary: {p.summary}", "Components: " + "; ".join(p.components), f"Training: {p.training}"]
    if p.evaluation:
        lines.append("Evaluation: " + "; ".join(p.evaluation))
    return "\n".join(lines)


def render_architecture(a: Architecture) -> str:
    lines = ["Files:"] + [f"- {f.name}: {f.purpose}" for f in a.files]
    for c in a.classes:
        lines.append(f"- class {c.name} in {c.file}: " + ", ".join(c.methods))
    if a.calls:
        lines.append("Call flow: " + "; ".join(f"{c.caller} -> {c.callee}: {c.message}" for c in a.calls))
    return "\n".join(lines)


def render_logic(lg: Logic, order: list[str]) -> str:
    lines = ["Order of writing: " + ", ".join(order)]
    if lg.shared:
        lines.append("Shared: " + "; ".join(lg.shared))
    return "\n".join(lines)


def normalize_design(arch: Architecture, logic: Logic) -> Architecture:
    """One file list both stages agree on, with main.py in it (the repository's entry point)."""
    files = {f.name: f for f in arch.files}
    for fl in logic.files:
        if fl.name not in files:
            files[fl.name] = FileSpec(name=fl.name, purpose=fl.logic[:100])
    main = files.pop("main.py", None) or FileSpec(
        name="main.py", purpose="runs training and evaluation; --smoke for a tiny run"
    )
    out = arch.model_copy(deep=True)
    out.files = [*list(files.values())[:5], main]  # the schema's bound: six files
    return out


def task_order(arch: Architecture, logic: Logic) -> list[str]:
    """Files in dependency order (a file after those it imports); cycles broken by the design's
    order; main.py last."""
    names = [f.name for f in arch.files]
    deps = {fl.name: [d for d in fl.depends_on if d in names and d != fl.name] for fl in logic.files}
    for cls in arch.classes:  # a class used in a call from another file's class is a dependency too
        deps.setdefault(cls.file, [])
    order: list[str] = []
    visiting: set[str] = set()

    def visit(n: str) -> None:
        if n in order or n in visiting:
            return
        visiting.add(n)
        for d in deps.get(n, []):
            visit(d)
        visiting.discard(n)
        order.append(n)

    for n in names:
        if n != "main.py":
            visit(n)
    return [n for n in order if n != "main.py"] + ["main.py"]


def mermaid_classes(arch: Architecture) -> str:
    lines = ["classDiagram"]
    for c in arch.classes:
        lines.append(f"    class {c.name} {{")
        lines += [f"        +{m}()" for m in dict.fromkeys(c.methods)]
        lines.append("    }")
    names = {c.name for c in arch.classes}
    for call in arch.calls:
        if call.caller in names and call.callee in names and call.caller != call.callee:
            lines.append(f"    {call.caller} --> {call.callee}")
    return "\n".join(lines)


def mermaid_sequence(arch: Architecture) -> str:
    lines = ["sequenceDiagram"]
    for call in arch.calls:
        message = re.sub(r"[;#:]", " ", call.message).strip() or "call"
        lines.append(f"    {call.caller}->>{call.callee}: {message}")
    return "\n".join(lines)


def diagrams_markdown(arch: Architecture) -> str:
    """The files, classes and call flow of a blueprint's repository (its skeleton's design)."""
    files = "\n".join(f"| `{f.name}` | {f.purpose} |" for f in arch.files)
    return (
        "# Architecture\n\n| file | purpose |\n|---|---|\n"
        f"{files}\n\n## Classes\n\n```mermaid\n{mermaid_classes(arch)}\n```\n\n"
        f"## Call flow\n\n```mermaid\n{mermaid_sequence(arch)}\n```\n"
    )


def architecture_markdown(arch: Architecture, logic: Logic, order: list[str]) -> str:
    files = "\n".join(f"| `{f.name}` | {f.purpose} |" for f in arch.files)
    per_file = {fl.name: fl for fl in logic.files}
    analysis = "\n".join(
        f"- `{n}` (imports {', '.join(per_file[n].depends_on) or 'nothing local'}): {per_file[n].logic}"
        for n in order
        if n in per_file
    )
    return (
        "# Architecture\n\n| file | purpose |\n|---|---|\n"
        f"{files}\n\n## Classes\n\n```mermaid\n{mermaid_classes(arch)}\n```\n\n"
        f"## Call flow\n\n```mermaid\n{mermaid_sequence(arch)}\n```\n\n"
        f"## Logic, in the order files are written\n\n{analysis}\n\n"
        f"## Packages\n\n{', '.join(logic.packages) or '(none named)'}\n\n"
        "## Shared knowledge\n\n" + "\n".join(f"- {s}" for s in logic.shared) + "\n"
    )


# Names the config uses for the hyper-parameters the digest asks about.
CONFIG_KEYS = {
    "d_model (model width)": "d_model",
    "number of layers": "num_layers",
    "attention heads": "num_heads",
    "d_ff (feed-forward width)": "d_ff",
    "dropout": "dropout",
    "label smoothing": "label_smoothing",
    "warmup steps": "warmup_steps",
    "learning rate": "learning_rate",
    "batch size": "batch_size",
    "optimizer": "optimizer",
    "training steps or epochs": "train_steps",
}

SMOKE = {
    "d_model": 16,
    "num_layers": 1,
    "num_heads": 2,
    "d_ff": 32,
    "batch_size": 2,
    "train_steps": 2,
    "seq_len": 8,
    "vocab_size": 32,
    "warmup_steps": 1,
}


def config_key(name: str) -> str:
    if name in CONFIG_KEYS:
        return CONFIG_KEYS[name]
    key = re.sub(r"\(.*?\)", "", name).strip().lower()
    key = re.sub(r"[^a-z0-9]+", "_", key).strip("_")
    return key[:40] or "value"


def config_value(text: str) -> Any:
    t = text.strip().replace(",", "")
    for kind in (int, float):
        try:
            return kind(t)
        except ValueError:
            pass
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*[x×·*]\s*10\^?\{?(-?\d+)\}?", t)
    if m:
        return float(m.group(1)) * 10 ** int(m.group(2))
    return text.strip()


def yaml_line(key: str, value: Any, note: str = "") -> str:
    """``key: value`` as one YAML line, with ``note`` as a trailing comment."""
    dumped = yaml.safe_dump({key: value}, default_flow_style=True, width=1000).strip().strip("{}")
    return f"{dumped}  # {note}" if note else dumped


def config_yaml(digest: Digest) -> tuple[str, dict[str, Any]]:
    """config.yaml from the digest's hyper-parameters: stated values as numbers where they are,
    unknown ones as null with a comment, and a ``smoke`` section of tiny sizes for CPU tests."""
    values: dict[str, Any] = {}
    notes: dict[str, str] = {}
    for h in digest.hyperparameters:
        key = config_key(h.name)
        if key in values and values[key] is not None:
            continue
        if h.value == UNKNOWN:
            values[key] = None
            notes[key] = "unknown: the paper does not say; choose a value"
        else:
            values[key] = config_value(h.value)
            notes[key] = "" if h.verified else "unverified: not found in the paper's text"
    lines = ["# Hyper-parameters from the paper (see REPORT.md for where each was found)."]
    for key, value in values.items():
        lines.append(yaml_line(key, value, notes[key]))
    lines.append("# Tiny sizes for smoke tests on a CPU: `python main.py --smoke` uses these instead.")
    lines.append(yaml.safe_dump({"smoke": SMOKE}, sort_keys=False).strip())
    text = "\n".join(lines) + "\n"
    data = yaml.safe_load(text)
    return text, data
