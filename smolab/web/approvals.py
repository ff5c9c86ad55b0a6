"""Approvals answered in the page.

The agent's policy asks an ``Approver`` and blocks until it answers. ``PageApprover`` writes the
question to the run's folder (``approval.json``), so a page that reloads, or a second tab,
finds it, and waits until the page answers (``answer``) or the run is stopped. The decision is
recorded in the trajectory by the policy, as for the command line; the question file goes once
it is answered, so no page shows a question that was already answered.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..agent.policy import Action, Decision
from ..runs.files import write_atomic

QUESTION = "approval.json"
ANSWERS = ("yes", "no", "always", "feedback")


class Stopped(Exception):
    """The run was stopped while it waited for an answer."""


class PageApprover:
    def __init__(self, folder: Path) -> None:
        self.path = folder / QUESTION
        self._answered = threading.Condition()
        self._decision: Decision | None = None
        self._asking: str | None = None
        self._stopped = False

    def __call__(self, action: Action) -> Decision:
        ask = uuid.uuid4().hex[:12]
        with self._answered:
            self._asking, self._decision = ask, None
            write_atomic(self.path, json.dumps({"id": ask, "asked": time.time(), **asdict(action)}))
            while self._decision is None and not self._stopped:
                self._answered.wait(timeout=1.0)
            decision = self._decision
            self._asking = None
        self.path.unlink(missing_ok=True)
        if decision is None:
            return Decision(False, by="stopped")
        return decision

    def pending(self) -> dict[str, Any] | None:
        try:
            return dict(json.loads(self.path.read_text()))
        except (OSError, ValueError):
            return None

    def answer(self, ask: str, answer: str, feedback: str = "") -> bool:
        """Answer question ``ask``; False when it is not the open one (answered already, or stale)."""
        if answer not in ANSWERS:
            raise ValueError(f"answer with one of {', '.join(ANSWERS)}")
        with self._answered:
            if self._asking != ask:
                return False
            if answer == "feedback":
                self._decision = Decision(False, feedback=feedback.strip()[:2000], by="person")
            else:
                self._decision = Decision(answer in ("yes", "always"), always=answer == "always", by="person")
            self._answered.notify_all()
            return True

    def stop(self) -> None:
        with self._answered:
            self._stopped = True
            self._answered.notify_all()
