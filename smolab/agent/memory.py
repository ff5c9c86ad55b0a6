"""A run's memory: its folder, its trajectory (see ``smolab.runs``), and the conversation
rebuilt from the trajectory on resume.

Messages the conversation gained are stored with the event that added them (``messages``),
and ``compact`` events fold older steps into one summary, so replaying the events rebuilds
exactly what the model saw.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..models import Message
from ..runs import Event, Trajectory, write_atomic
from ..runs.events import Compact
from .errors import RunNotFoundError


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
        self.trajectory = Trajectory(root / "trajectory.jsonl")

    @classmethod
    def create(cls, root: Path, info: dict[str, Any]) -> RunFolder:
        root.mkdir(parents=True, exist_ok=False)
        run = cls(root)
        run.write("run.json", json.dumps({"kind": "agent", "id": root.name, **info}, indent=1))
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
        write_atomic(self.root / name, text)

    def log(self, event: Event) -> Event:
        return self.trajectory.append(event)

    def events(self) -> list[Event]:
        return self.trajectory.read()


def rebuild(events: list[Event]) -> Memory:
    """The conversation as it stood after the last event."""
    memory = Memory()
    for e in events:
        if isinstance(e, Compact):
            memory.compact(e.upto, e.summary)
        step = int(getattr(e, "step", 0) or 0)
        for m in getattr(e, "messages", None) or ():
            memory.add(step, Message(m["role"], m["content"]))
    return memory
