"""Models for batch tests, made inside each worker: picklable factories (a Ray worker imports
this module) around the scripted author, which can also kill its own worker process once."""

from __future__ import annotations

import os
import signal
from collections.abc import Sequence
from dataclasses import dataclass

from smolab.models import ChatModel, Message
from smolab.models.types import GenerateParams

from .scripted_author import Author, author_model

ANSWER = "Thought: The answer is six times seven.\n```python\nfinal_answer(6 * 7)\n```"


@dataclass
class BatchAuthor(Author):
    kill_at: str = ""
    """A step kind at which the worker process kills itself, the first time any worker gets there."""
    marker: str = ""
    """The file that says the kill has happened (so the retried item runs through)."""

    def __call__(self, messages: Sequence[Message], params: GenerateParams) -> str:
        if "final_answer" in messages[0].content:  # an agent task's step
            return ANSWER
        kind = self.kind(messages, params)
        if self.kill_at and kind == self.kill_at and self._first():
            os.kill(os.getpid(), signal.SIGKILL)
        return super().__call__(messages, params)

    def _first(self) -> bool:
        """Whether this is the first worker here (workers race for it: only one creates the file)."""
        try:
            fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return False
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        return True


@dataclass(frozen=True)
class Scripted:
    """Each call: a fresh scripted model (one per worker); ``loads_to`` gets a line per load."""

    kill_at: str = ""
    marker: str = ""
    crash_at: str | None = None
    loads_to: str = ""

    def __call__(self) -> ChatModel:
        if self.loads_to:
            with open(self.loads_to, "a") as f:
                f.write(f"{os.getpid()}\n")
        return author_model(BatchAuthor(kill_at=self.kill_at, marker=self.marker, crash_at=self.crash_at))
