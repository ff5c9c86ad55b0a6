"""A run's memory: its folder, the JSONL trajectory (one event per line, flushed as it happens),
and the conversation rebuilt from it on resume.

Events: ``start``, ``resume``, ``step`` (the reply, thought, code, observation, tool calls,
usage, timing), ``format_error``, ``approval``, ``guard``, ``compact`` (older steps folded
into one summary), ``end``. Messages the conversation gained are stored with the event that
added them, so replaying the events rebuilds exactly what the model saw.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..models import Message
from .errors import RunNotFoundError


def new_run_id(task: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", task.lower()).strip("-")[:32].strip("-") or "run"
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{slug}"


@dataclass
class Turn:
    """Messages one event added to the conversation, tagged with the step they belong to."""

    step: int
    messages: list[Message]


@dataclass
class Memory:
    turns: list[Turn] = field(default_factory=list)

    def add(self, step: int, *messages: Message) -> None:
        self.turns.append(Turn(step, list(messages)))

    def messages(self) -> list[Message]:
        return [m for t in self.turns for m in t.messages]

    def compact(self, upto: int, summary: str) -> None:
        """Replace every turn of steps ``1..upto`` with one summary message."""
        kept = [t for t in self.turns if t.step > upto or t.step == 0]
        note = Message("user", f"Summary of steps 1-{upto} (earlier steps, condensed):\n{summary}")
        first_later = next((i for i, t in enumerate(kept) if t.step > upto), len(kept))
        kept.insert(first_later, Turn(upto, [note]))
        self.turns = kept


class RunFolder:
    """``run.json`` (what was asked, with which settings), ``trajectory.jsonl``, ``summary.md``."""

    def __init__(self, root: Path):
        self.root = root
        self.trajectory = root / "trajectory.jsonl"

    @classmethod
    def create(cls, root: Path, info: dict[str, Any]) -> RunFolder:
        root.mkdir(parents=True, exist_ok=False)
        run = cls(root)
        run.write("run.json", json.dumps(info, indent=1))
        return run

    @classmethod
    def existing(cls, root: Path) -> RunFolder:
        run = cls(root)
        if not (root / "run.json").is_file():
            raise RunNotFoundError(
                f"{root} is not an agent run (no run.json); see `smolab runs` for the list"
            )
        return run

    def info(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads((self.root / "run.json").read_text())
        except (OSError, ValueError) as err:
            raise RunNotFoundError(f"{self.root}/run.json cannot be read: {err}") from None
        return data

    def write(self, name: str, text: str) -> None:
        path = self.root / name
        tmp = path.with_name(f".{name}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)

    def log(self, event: dict[str, Any]) -> None:
        line = json.dumps({"time": round(time.time(), 3), **event}, ensure_ascii=False, default=str)
        # One write per event, flushed to the OS at once: a killed process loses nothing written.
        # (No fsync: it would cost more than a whole step and guards only against power loss.)
        with open(self.trajectory, "a") as f:
            f.write(line + "\n")

    def events(self) -> list[dict[str, Any]]:
        if not self.trajectory.exists():
            return []
        out = []
        for line in self.trajectory.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                break  # a line cut by a crash mid-write: everything before it stands
        return out


def rebuild(events: list[dict[str, Any]]) -> Memory:
    """The conversation as it stood after the last event."""
    memory = Memory()
    for e in events:
        if e.get("type") == "compact":
            memory.compact(int(e["upto"]), e["summary"])
        for m in e.get("messages") or ():
            memory.add(int(e.get("step", 0)), Message(m["role"], m["content"]))
    return memory
