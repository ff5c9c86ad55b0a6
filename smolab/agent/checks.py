"""Checks on a final answer before a run may end as done.

A small model says "the means are stored in means.json" whether or not it wrote the file. So
the answer is held against what happened: the files the task asks for and the answer names
must exist and not be empty, and an answer that claims an action (wrote, trained, fixed,
deleted) needs a trace of it in the workspace or the trajectory. A check returns ``None`` when
the answer passes, else one line the model can act on. Users add their own checks through
``AgentOptions.final_checks`` (any callable taking an :class:`Ending`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .tools.shell import PACKAGES

Snapshot = dict[str, tuple[int, int]]
"""Workspace files as (size, mtime in ns) by their path relative to the workspace."""


def snapshot(workspace: Path, skip: Iterable[str] = (PACKAGES,)) -> Snapshot:
    """Every plain file under ``workspace`` but the skipped top-level folders (installed packages)."""
    skipped = set(skip)
    out: Snapshot = {}
    for folder, dirs, files in os.walk(workspace):
        rel = Path(folder).relative_to(workspace)
        if rel == Path("."):
            dirs[:] = [d for d in dirs if d not in skipped]
        for name in files:
            path = Path(folder) / name
            try:
                st = path.lstat()
            except OSError:
                continue
            if path.is_file() and not path.is_symlink():
                out[str(rel / name) if rel != Path(".") else name] = (st.st_size, st.st_mtime_ns)
    return out


@dataclass(frozen=True)
class Ending:
    """What a check sees: the task, the answer, the workspace before and now, and the steps."""

    task: str
    answer: Any
    workspace: Path
    before: Snapshot
    steps: list[dict[str, Any]] = field(default_factory=list)
    """The trajectory's step events (code, status, tool_calls)."""

    def now(self) -> Snapshot:
        return snapshot(self.workspace)

    def text(self) -> str:
        return self.answer if isinstance(self.answer, str) else json.dumps(self.answer, default=str)


FinalCheck = Callable[[Ending], "str | None"]

EXTENSIONS = (
    *("csv", "tsv", "json", "jsonl", "txt", "md", "py", "yaml", "yml", "toml", "ini", "cfg", "log"),
    *("html", "xml", "pt", "pth", "ckpt", "pkl", "pickle", "npy", "npz", "png", "jpg", "jpeg", "svg"),
    *("pdf", "parquet", "h5", "gz", "zip", "onnx", "safetensors", "sh", "ipynb"),
)
FILE = re.compile(
    rf"(?<![\w/.-])((?:/?[\w.-]+/)*[\w-][\w.-]*\.(?:{'|'.join(EXTENSIONS)}))(?![\w/-])", re.IGNORECASE
)
# A file named where the text removes it is not one that must exist.
REMOVING = re.compile(r"\b(?:delet\w*|remov\w*|eras\w*|clean\w* up)\b", re.IGNORECASE)
NEGATED = re.compile(r"\b(?:not|never|no|unable|failed|cannot|could ?n[o']t|did ?n[o']t|was ?n[o']t)\b", re.I)


def _clauses(text: str) -> list[str]:
    return [c for c in re.split(r"(?<=[.;!?])\s+|\n+", text) if c.strip()]


def named_files(text: str) -> list[str]:
    """Workspace paths a text names as files to have, in order, without those it says to remove.
    Absolute paths count only under /workspace."""
    found: list[str] = []
    for clause in _clauses(text):
        if REMOVING.search(clause):
            continue
        for m in FILE.finditer(clause):
            name = m.group(1).rstrip(".")
            if name.startswith("/"):
                if not name.startswith("/workspace/"):
                    continue
                name = name.removeprefix("/workspace/")
            name = name.removeprefix("./")
            if name not in found:
                found.append(name)
    return found


def files_exist(end: Ending) -> str | None:
    """Files the task asks to make (named in it, absent at the start) and files the answer names
    exist and are not empty."""
    wanted = [n for n in named_files(end.task) if n not in end.before]
    wanted += [n for n in named_files(end.text()) if n not in wanted]
    problems = []
    for name in wanted:
        path = end.workspace / name
        if not path.is_file():
            problems.append(f"{name} does not exist in the workspace")
        elif path.stat().st_size == 0:
            problems.append(f"{name} is empty")
    return "; ".join(problems) or None


# What an answer may claim to have done, and where its trace must be.
CLAIMS = {
    "write": re.compile(
        r"\b(?:wrote|written|saved|stored|created|exported|generated|dumped|fixed|repaired|corrected|"
        r"patched|updated|edited|modified|changed)\b",
        re.I,
    ),
    "train": re.compile(r"\b(?:trained|fine-tuned|fitted)\b", re.I),
    "delete": re.compile(r"\b(?:deleted|removed|erased)\b", re.I),
    "tests": re.compile(r"\btests?\b.*?\b(?:pass|passes|passed|passing|succeed\w*|green)\b", re.I),
}
# A step that ran a test suite (in its code, or through the shell tool), and what a failed run prints.
RUNS_TESTS = re.compile(r"\bpytest\b|\bunittest\b", re.I)
TESTS_FAILED = re.compile(r"\b\d+ (?:failed|errors?)\b|^FAILED|^ERROR|FAILED \(", re.M)
TRAINING = re.compile(r"\.backward\(|\.fit\(|\.step\(\)|\.train\(|optim\.", re.I)
WRITERS = {"write_file", "edit_file"}


def _claimed(text: str) -> set[str]:
    found = set()
    for clause in _clauses(text):
        for claim, pattern in CLAIMS.items():
            m = pattern.search(clause)
            if m and not NEGATED.search(clause[: m.end()]):
                found.add(claim)
    return found


def _calls(steps: list[dict[str, Any]], names: set[str]) -> bool:
    return any(c.get("tool") in names and c.get("ok") for s in steps for c in s.get("tool_calls", []))


def claims_hold(end: Ending) -> str | None:
    """An answer that says it wrote, changed, trained or deleted something has a trace of it."""
    claims = _claimed(end.text())
    if not claims:
        return None
    now = end.now()
    changed = [p for p, sig in now.items() if end.before.get(p) != sig]
    removed = [p for p in end.before if p not in now]
    problems = []
    if "write" in claims and not changed and not _calls(end.steps, WRITERS):
        problems.append("the answer says files were written or changed, but no file in the workspace changed")
    if "delete" in claims and not removed:
        problems.append("the answer says something was deleted, but every file is still there")
    ran = [s for s in end.steps if s.get("status") == "ok"]
    if "train" in claims and not any(TRAINING.search(s.get("code", "")) for s in ran):
        problems.append("the answer says a model was trained, but no step that ran trained one")
    if "tests" in claims:
        problems.extend(_tests_ran(end.steps))
    return "; ".join(problems) or None


def _tests_ran(steps: list[dict[str, Any]]) -> list[str]:
    """An answer saying the tests pass needs a last test run that passed."""
    runs = [s for s in steps if RUNS_TESTS.search(s.get("code", "") + json.dumps(s.get("tool_calls", [])))]
    if not runs:
        return [
            "the answer says the tests pass, but no step ran them: run them "
            "(shell('python -m pytest -q')), read the result, then answer"
        ]
    last = runs[-1]
    shown = str(last.get("observation", "")) + json.dumps(
        [c.get("result") for c in last.get("tool_calls", [])]
    )
    failed = TESTS_FAILED.search(shown)
    if failed is not None or last.get("status") != "ok":
        line = failed.group(0) if failed else str(last.get("status"))
        step = last.get("step", "?")
        return [f"the answer says the tests pass, but the last test run (step {step}) shows {line!r}"]
    return []


BUILT_IN: tuple[FinalCheck, ...] = (files_exist, claims_hold)


def run_checks(end: Ending, checks: Iterable[FinalCheck]) -> list[str]:
    """The problems the checks found; a check that raises is a problem in its own words."""
    problems = []
    for check in checks:
        try:
            problem = check(end)
        except Exception as err:  # a user's check with a bug must not end the run
            problem = f"{getattr(check, '__name__', 'a check')} failed: {type(err).__name__}: {err}"
        if problem:
            problems.append(problem)
    return problems
