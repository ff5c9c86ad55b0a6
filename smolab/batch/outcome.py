"""What an item's folder says: whether it still has to run, and its row in the batch's table.
Read from the run's own files (the trajectory and, for a paper, report.json) and nothing else,
so a batch that crashed, or that ran on other machines, reads the same."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from ..runs import RunRef, status_of, summarize
from ..runs.summary import FINAL
from .plan import Item

FINISHED = FINAL - {"error", "interrupted"}
"""Ended for a reason running it again would not change; an error or a stop is run again."""

State = Literal["new", "resume", "running", "finished"]


class Result(BaseModel):
    key: str
    kind: str
    what: str
    status: str
    reason: str = ""
    run_id: str = ""
    checks_passed: int = 0
    checks_total: int = 0
    tests_passed: int = 0
    tests_total: int = 0
    seconds: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    earlier: bool = False
    """Finished before this batch started (run by an earlier, interrupted batch)."""
    worker: str = ""
    """The process that ran it last (host:pid)."""
    peak_rss_mb: float = 0.0
    """That worker's peak resident memory when it finished this item."""
    model_loads: int = 0
    """Times that worker had loaded a model by then (1: loaded once for all its items)."""

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def ok(self) -> bool:
        return self.status == "done"


def run_ref(item: Item, out: Path) -> RunRef | None:
    """The item's run, by the id its run.json gives it; None before the run has started."""
    folder = item.run_folder(out)
    if not (folder / "run.json").is_file():
        return None
    ref = RunRef(folder.name, folder)
    return RunRef(str(ref.info().get("id") or item.key), folder)


def state_of(item: Item, out: Path) -> State:
    ref = run_ref(item, out)
    if ref is None or not ref.trajectory.path.is_file():
        return "resume" if ref is not None else "new"
    status = status_of(ref.trajectory.read())
    if status in FINISHED:
        return "finished"
    return "running" if status == "running" else "resume"


def result_of(item: Item, out: Path) -> Result:
    """The item's row as its folder has it now."""
    ref = run_ref(item, out)
    if ref is None:
        return Result(key=item.key, kind=item.kind, what=item.what, status="not run")
    summary = summarize(ref)
    result = Result(
        key=item.key,
        kind=item.kind,
        what=item.what,
        status=summary.status,
        reason=summary.reason,
        run_id=summary.id,
        seconds=summary.seconds,
        prompt_tokens=summary.prompt_tokens,
        completion_tokens=summary.completion_tokens,
    )
    if item.kind == "reproduce":
        try:
            report = json.loads((item.root(out) / "report.json").read_text())
        except (OSError, ValueError):
            report = {}
        checks = report.get("checks") if isinstance(report, dict) else None
        if isinstance(checks, dict):
            result.checks_total = len(checks)
            result.checks_passed = sum(bool(c.get("ok")) for c in checks.values() if isinstance(c, dict))
        tests = report.get("tests_after_repair") if isinstance(report, dict) else None
        if isinstance(tests, dict):
            result.tests_passed = int(tests.get("passed", 0))
            result.tests_total = int(tests.get("total", 0))
    return result
