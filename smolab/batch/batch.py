"""A batch from start to table: items finished before are not run again, the rest go to the
runner, each run is listed in the runs index as soon as its folder appears, and the rows are
written to ``summary.json`` beside ``batch.json``."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..runs import RunIndex, link, write_atomic
from .outcome import Result, result_of, run_ref, state_of
from .plan import Item
from .runners import Runner

SUMMARY = "summary.json"
TAIL = 64 * 1024


def stage_of(item: Item, out: Path) -> str:
    """Where a running item is: a reproduce run's stage, an agent run's step (from the end of
    its trajectory, so a long run costs no more to watch than a short one)."""
    path = item.run_folder(out) / "trajectory.jsonl"
    try:
        with path.open("rb") as f:
            f.seek(max(0, f.seek(0, 2) - TAIL))
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return "starting"
    for line in reversed(lines):
        if '"stage_started"' in line or '"step_started"' in line:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            return str(event.get("stage") or f"step {event.get('step')}")
    return "starting"


@dataclass
class Watcher:
    """What the caller is told while the batch runs (a progress display); all optional."""

    started: Callable[[Item], None] = lambda item: None
    stage: Callable[[Item, str], None] = lambda item, stage: None
    finished: Callable[[Result], None] = lambda result: None


@dataclass
class Batch:
    items: list[Item]
    out: Path
    runner: Runner
    index: RunIndex | None = None
    watcher: Watcher = field(default_factory=Watcher)
    _running: dict[str, Item] = field(default_factory=dict)
    _listed: set[str] = field(default_factory=set)

    def run(self) -> list[Result]:
        results: dict[str, Result] = {}
        todo: list[Item] = []
        for item in self.items:
            state = state_of(item, self.out)
            if state == "new" or state == "resume":
                todo.append(item)
                continue
            result = result_of(item, self.out)
            if state == "finished":
                result.earlier = True
            else:
                result.reason = "another process is running it; run the batch again once it ends"
            results[item.key] = result
            self._list(item)
            self.watcher.finished(result)

        def started(item: Item) -> None:
            self._running[item.key] = item
            self.watcher.started(item)

        def finished(result: Result) -> None:
            item = self._running.pop(result.key, None)
            results[result.key] = result
            if item is not None:
                self._list(item)
            self.watcher.finished(result)
            self._save(results)

        self.runner.run(todo, started, finished, self._tick)
        self._save(results)
        return [results[i.key] for i in self.items if i.key in results]

    def _tick(self) -> None:
        for item in list(self._running.values()):
            self._list(item)
            self.watcher.stage(item, stage_of(item, self.out))

    def _list(self, item: Item) -> None:
        """Into the runs index once its folder exists (`smolab runs` shows it while it runs),
        and again whenever it is looked at later (its status moves on)."""
        if self.index is None or (ref := run_ref(item, self.out)) is None:
            return
        if ref.id not in self._listed:
            link(self.index.runs_dir, ref.id, ref.folder)
            self._listed.add(ref.id)
        self.index.update(ref)

    def _save(self, results: dict[str, Result]) -> None:
        rows = [results[i.key].model_dump() for i in self.items if i.key in results]
        write_atomic(self.out / SUMMARY, json.dumps(rows, indent=1))
