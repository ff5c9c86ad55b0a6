"""What the runs that used a skill say about it: the outcomes selection weighs skills by.

The runs index records each skill a run used (``skill_uses``); a run that ended ``done`` is a
success of every skill it used, any other final status a failure, and a run still going is no
evidence yet.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any, Protocol

from .select import SUCCESS, Outcome

FINAL = {"done", "unverified", "failed", "stuck", "budget", "format_error", "error", "interrupted"}


class Uses(Protocol):
    """The runs that used a skill (``RunIndex``)."""

    def uses_of(self, skill: str) -> builtins.list[tuple[Any, Any]]: ...


def outcomes_from(index: Uses) -> Callable[[str], list[Outcome]]:
    """The outcomes of the finished runs that used a skill, by its name."""

    def of(name: str) -> list[Outcome]:
        return [
            Outcome(when=run.started, success=run.status in SUCCESS)
            for run, _ in index.uses_of(name)
            if run.status in FINAL
        ]

    return of
